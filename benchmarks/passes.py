"""Figure 5: the store copy in passes (transfer/passes.py) against a moto S3 server in its own process.

For each size, fresh child processes run the import step's copy the way the state machine does
(the CopyState through JSON between passes):
- one pass (max_bytes_per_pass = the size) and n passes of 64 MiB: the pass overhead;
- n passes where pass 3 breaks off midway and is retried from its input state: the bytes read twice;
- read+hash alone (pinned ranged GETs into the resumable ParallelHasher, no copy) next to the raw
  two-thread rate of the same hashers and of hashlib's, on in-memory chunks, in the same child;
- the child's RSS high-water mark over the copy, and the largest state a pass returned.
Figures only: nothing here asserts on time.

    .venv/bin/python benchmarks/passes.py [--sizes 64,1024]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import (
    MIB,
    STAGING_BUCKET,
    STORE_BUCKET,
    MotoServer,
    SendfileS3,
    child_env,
    section,
    status_kib,
    table,
    use_endpoint,
)

PASS_MIB = 64


def _raw_two_thread(make, chunks: list[bytes]) -> float:
    """MiB/s of MD5 and SHA-512 each on its own thread over ``chunks`` (as ParallelHasher runs them)."""
    md5, sha = make("md5"), make("sha512")
    started = time.perf_counter()
    other = threading.Thread(target=lambda: [md5.update(c) for c in chunks])
    other.start()
    for chunk in chunks:
        sha.update(chunk)
    other.join()
    return len(chunks) * len(chunks[0]) / MIB / (time.perf_counter() - started)


class _MemoryObject:
    """A source whose ranged reads cost nothing but slicing: what the pass machinery itself costs."""

    name = "memory"

    def __init__(self, chunks: list[bytes]):
        self.chunks, self.size = chunks, len(chunks) * len(chunks[0])

    def ranged_chunks(self, key, first, last, etag, chunk_size):
        piece = len(self.chunks[0])
        yield self.chunks[(first // piece) % len(self.chunks)][: last - first + 1]

    # the target side: copies and completion are S3's work, free here
    def start_multipart(self, key):
        return "upload"

    def copy_part_from(self, *args):
        pass

    def copy_from(self, *args):  # an object of one part: one CopyObject
        pass

    def complete_multipart(self, key, upload_id):
        return True

    def head(self, key):
        return self.size, "etag"


def _cpu(measure, *args) -> tuple[float, float]:
    """(the MiB/s ``measure`` returns, this process's CPU ms per MiB while it ran)."""
    cpu, wall = time.process_time(), time.perf_counter()
    rate = measure(*args)
    mib = rate * (time.perf_counter() - wall)
    return rate, (time.process_time() - cpu) * 1000 / mib


def _read_hash_pass(source, key: str, size: int, etag: str) -> float:
    """MiB/s of one CopyPass over ``source`` whose target copies for free: the store step's pinned ranged
    reads (READS_AHEAD at once) into the resumable MD5 + SHA-512, without S3's server-side copy."""
    from image_import.transfer import passes
    from image_import.transfer.hashing import ParallelHasher

    target = _MemoryObject([b"x"])
    target.size = size  # what the completed upload holds
    state = passes.start(size, etag, 64 * MIB, None).model_copy(update={"part_size": 64 * MIB})
    hasher = ParallelHasher("sha512")
    started = time.perf_counter()
    passes.CopyPass(source, key, target, "t", hasher=hasher).run(state, size, time.monotonic() + 600)
    hasher.finish()
    return size / MIB / (time.perf_counter() - started)


def _copy_pass_in_memory(chunks: list[bytes], passes, ParallelHasher) -> float:
    """MiB/s of one CopyPass over an in-memory source of 4x ``chunks`` (MD5 + SHA-512, as in S3)."""
    source = _MemoryObject(chunks)
    source.size *= 4
    state = passes.start(source.size, "etag", 64 * MIB, None).model_copy(update={"part_size": 64 * MIB})
    hasher = ParallelHasher("sha512")
    started = time.perf_counter()
    passes.CopyPass(source, "k", source, "t", hasher=hasher).run(state, source.size, time.monotonic() + 600)
    hasher.finish()
    return source.size / MIB / (time.perf_counter() - started)


def child(key: str, size: int, mode: str) -> None:
    from image_import.adapters.objects import Bucket
    from image_import.errors import PassInterrupted
    from image_import.models.job import CopyState
    from image_import.transfer import hashing, passes
    from image_import.transfer.hashing import ParallelHasher

    staging, store = Bucket(STAGING_BUCKET), Bucket(STORE_BUCKET)
    size_bytes, etag = staging.head(key)
    result: dict = {"mode": mode, "size": size}
    if mode == "rates":
        chunks = [os.urandom(8 * MIB) for _ in range(32)]
        result["hashlib"], _ = _cpu(_raw_two_thread, lambda name: hashlib.new(name), chunks)
        result["resumable"], result["hash_cpu"] = _cpu(_raw_two_thread, lambda name: hashing.new_digest(name), chunks)
        result["read_hash"], result["read_hash_cpu"] = _cpu(_read_hash_pass, staging, key, size_bytes, etag)
        # the same pass reading from a server that costs (almost) no CPU: our reader's own cost
        use_endpoint(os.environ["SENDFILE_S3_URL"])
        fast_size, fast_etag = staging.head(key)
        result["read_hash_fast"], result["read_hash_fast_cpu"] = _cpu(
            _read_hash_pass, staging, key, fast_size, fast_etag
        )
        result["in_memory"] = _copy_pass_in_memory(chunks, passes, ParallelHasher)
        print(json.dumps(result))
        return
    max_bytes = size_bytes if mode == "one pass" else PASS_MIB * MIB
    # midway through pass 3: the third 8 MiB read of its 64 MiB
    break_at = 2 * PASS_MIB * MIB + 2 * passes.READ_CHUNK if mode == "broken pass" else None
    read = {"bytes": 0}
    real = Bucket.ranged_chunks

    def counting(self, key, first, last, etag, chunk_size=passes.READ_CHUNK):
        for chunk in real(self, key, first, last, etag, chunk_size):
            read["bytes"] += len(chunk)
            if first == break_at and not read.get("broke"):
                read["broke"] = True
                raise ConnectionResetError("injected: the connection drops midway through pass 3")
            yield chunk

    Bucket.ranged_chunks = counting
    state = passes.start(size_bytes, etag, max_bytes, "sha512")
    calls, largest = 0, 0
    started = time.perf_counter()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # VmHWM from here
    while not state.done:
        document = state.model_dump_json()
        largest = max(largest, len(document))
        state = CopyState.model_validate_json(document)
        hasher = ParallelHasher.resume(state.hashing)
        calls += 1
        try:
            state = passes.CopyPass(staging, key, store, "images/bench", hasher=hasher).run(
                state, passes.pass_bytes(state, max_bytes, hasher), time.monotonic() + 600
            )
        except PassInterrupted:
            hasher.close()
            continue  # the state machine's Retry: the same input again
        if state.done:
            digests = hasher.finish()
        else:
            hasher.close()
    result.update(
        seconds=time.perf_counter() - started,
        calls=calls,
        passes=state.passes,
        reread_mib=(read["bytes"] - size_bytes) / MIB,
        state_bytes=largest,
        hwm_mib=status_kib("VmHWM") / 1024,
        checksum=digests.checksum,
    )
    store.delete("images/bench")
    print(json.dumps(result))


def run_child(url: str, key: str, size: int, mode: str, env: dict[str, str] | None = None) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", key, "--size", str(size), "--mode", mode]
    proc = subprocess.run(
        command, env=child_env({"AWS_ENDPOINT_URL": url, **(env or {})}), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_bytes(path: Path, piece: bytes, size_mib: int) -> Path:
    """The staged object's bytes in a file (``piece`` repeated), for the sendfile server."""
    with path.open("wb") as out:
        for _ in range(size_mib // 8):
            out.write(piece)
    return path


def bench_passes(sizes: list[int], tmp: Path) -> None:
    from image_import.adapters.objects import Bucket

    section("5. The store copy in passes (UploadPartCopy + pinned ranged reads into resumable hashers)")
    with MotoServer(tmp) as moto:
        use_endpoint(moto.url)
        from image_import.adapters.aws import client

        for bucket in (STAGING_BUCKET, STORE_BUCKET):
            client("s3").create_bucket(Bucket=bucket)
        rows, rates = [], []
        for size in sizes:
            key = f"staging/bench-{size}"
            piece = os.urandom(8 * MIB)
            Bucket(STAGING_BUCKET).write(key, (piece for _ in range(size // 8)), part_size=8 * MIB)
            one = run_child(moto.url, key, size, "one pass")
            many = run_child(moto.url, key, size, "64 MiB passes")
            broken = run_child(moto.url, key, size, "broken pass")
            for result in (one, many, broken):
                rows.append(
                    [
                        f"{size} MiB",
                        result["mode"],
                        f"{result['passes']} ({result['calls']} calls)",
                        f"{result['seconds']:.2f} s",
                        f"{size / result['seconds']:.0f} MiB/s",
                        f"{result['seconds'] / one['seconds']:.2f}x",
                        f"{result['reread_mib']:.0f} MiB",
                        f"{result['hwm_mib']:.0f} MiB",
                        f"{result['state_bytes']} B",
                    ]
                )
            assert one["checksum"] == many["checksum"] == broken["checksum"]
            with SendfileS3(_same_bytes(tmp / "sendfile-source", piece, size)) as fast:
                rate = run_child(moto.url, key, size, "rates", {"SENDFILE_S3_URL": fast.url})
            rates.append(
                [
                    f"{size} MiB",
                    f"{rate['hashlib']:.0f} MiB/s",
                    f"{rate['resumable']:.0f} MiB/s",
                    f"{rate['read_hash']:.0f} MiB/s",
                    f"{rate['read_hash'] / rate['resumable']:.2f}x",
                    f"{rate['read_hash_fast']:.0f} MiB/s ({rate['read_hash_fast'] / rate['resumable']:.2f}x)",
                    f"{rate['hash_cpu']:.2f} / {rate['read_hash_fast_cpu']:.2f} / {rate['read_hash_cpu']:.2f}",
                    f"{rate['in_memory']:.0f} MiB/s ({rate['in_memory'] / rate['resumable']:.2f}x)",
                ]
            )
            Bucket(STAGING_BUCKET).delete(key)
    headers = ["size", "run", "passes", "time", "rate", "vs one pass", "re-read", "peak RSS", "largest state"]
    print(table(headers, rows))
    print()
    print(
        table(
            [
                "size",
                "hashlib MD5+SHA-512, 2 threads",
                "resumable, 2 threads",
                "read+hash (moto S3)",
                "read+hash / raw",
                "read+hash (sendfile S3) / raw",
                "CPU ms/MiB: hash / +sendfile read / +moto read",
                "pass from memory / raw",
            ],
            rates,
        )
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,1024")
    parser.add_argument("--child")
    parser.add_argument("--size", type=int)
    parser.add_argument("--mode")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.size, args.mode)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-passes-") as tmp:
        bench_passes([int(s) for s in args.sizes.split(",")], Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

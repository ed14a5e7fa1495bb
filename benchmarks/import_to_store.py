"""Figures 2 and 3: import-to-store throughput and the import step's peak memory.

A source object is staged in a moto S3 server (its own process); one fresh child process per size
then runs the streaming store path (PUT /file's, and the import step's before it copied in passes:
see passes.py), ``Bucket.chunks -> hashed(ParallelHasher) -> Bucket.write``
(plus the read+hash, read and write parts alone), measuring time, CPU and its RSS high-water mark.
The child is this file run as a script (``--child-import``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness import (
    CHUNK,
    MIB,
    REPO,
    STAGING_BUCKET,
    STORE_BUCKET,
    MotoServer,
    child_env,
    fmt_rate,
    rate,
    section,
    source_chunks,
    status_kib,
    table,
    use_endpoint,
)


def stage_source(pool: list[bytes], size_mib: int, key: str) -> float:
    """Upload the source object with the domain's streaming multipart writer; returns seconds."""
    from image_import.adapters.objects import Bucket

    t0 = time.perf_counter()
    written = Bucket(STAGING_BUCKET).write(key, source_chunks(pool, size_mib), part_size=CHUNK)
    if written != size_mib * MIB:
        raise RuntimeError(f"staging wrote {written} bytes, expected {size_mib * MIB}")
    return time.perf_counter() - t0


def run_import_child(url: str, key: str, size_mib: int, moto_pid: int) -> dict:
    """One fresh interpreter per size, so the memory figures are independent."""
    env = child_env({"AWS_ENDPOINT_URL": url})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-import", key, "--size", str(size_mib)]
    cmd += ["--moto-pid", str(moto_pid)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"import child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (0 if unavailable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _reset_high_water_mark() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child_import(key: str, size_mib: int, moto_pid: int) -> None:
    """Runs in the fresh child process; prints one JSON line."""
    from image_import.adapters.aws import client
    from image_import.adapters.objects import Bucket
    from image_import.settings import get_settings
    from image_import.transfer.hashing import ParallelHasher, hashed

    settings = get_settings()
    staging, store = Bucket(STAGING_BUCKET), Bucket(STORE_BUCKET)
    s3 = client("s3")
    s3.head_object(Bucket=STAGING_BUCKET, Key=key)  # warm the client (endpoint, loaders, connection pool)

    complete = {"total": 0.0, "t": 0.0}

    def before(**_):
        complete["t"] = time.perf_counter()

    def after(**_):
        complete["total"] += time.perf_counter() - complete["t"]

    s3.meta.events.register("before-call.s3.CompleteMultipartUpload", before)
    s3.meta.events.register("after-call.s3.CompleteMultipartUpload", after)

    phases: dict[str, dict[str, float]] = {}

    def phase(name: str, fn) -> object:
        complete["total"] = 0.0
        ours, moto = os.times(), _cpu_seconds(moto_pid)
        t0 = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t0
        ours_after = os.times()
        phases[name] = {
            "wall": wall,
            "complete": complete["total"],
            "our_cpu": (ours_after.user - ours.user) + (ours_after.system - ours.system),
            "moto_cpu": _cpu_seconds(moto_pid) - moto,
        }
        return out

    # memory baseline: everything imported, client created. ru_maxrss is no good here: on Linux it
    # includes the parent's RSS inherited across fork+exec, so use VmHWM, reset just before the copy.
    hwm_reset = _reset_high_water_mark()
    base_rss_kib = status_kib("VmRSS")
    base_maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # 1) the store path of steps.import_to_store, minus DynamoDB
    store_key = f"images/{key.rsplit('/', 1)[-1]}"
    hasher = ParallelHasher(settings.hashing_algorithm)

    def copy():
        written = store.write(store_key, hashed(staging.chunks(key), hasher, settings.image_size_cap), part_size=CHUNK)
        return written, hasher.finish()

    written, digests = phase("copy", copy)
    peak_hwm_kib = status_kib("VmHWM")
    peak_maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    after_rss_kib = status_kib("VmRSS")
    threads_after = threading.active_count()
    stored = store.size(store_key)
    store.delete(store_key)

    # 2) read + hash alone (no write)
    def read_hash():
        h = ParallelHasher(settings.hashing_algorithm)
        for _ in hashed(staging.chunks(key), h, settings.image_size_cap):
            pass
        return h.finish()

    digests2 = phase("read_hash", read_hash)

    # 3) read alone
    def read():
        return sum(len(chunk) for chunk in staging.chunks(key))

    read_bytes = phase("read", read)

    # 4) write alone, from memory (no read, no hash)
    pool = [os.urandom(CHUNK) for _ in range(2)]
    phase(
        "write", lambda: store.write(store_key, (pool[i % 2] for i in range(size_mib * MIB // CHUNK)), part_size=CHUNK)
    )
    store.delete(store_key)

    print(
        json.dumps(
            {
                "size": size_mib,
                "written": written,
                "stored": stored,
                "read": read_bytes,
                "digests_match": (digests.checksum, digests.hash_value) == (digests2.checksum, digests2.hash_value),
                "algorithm": settings.hashing_algorithm,
                "phases": phases,
                "base_rss_kib": base_rss_kib,
                "peak_hwm_kib": peak_hwm_kib,
                "base_maxrss_kib": base_maxrss_kib,
                "peak_maxrss_kib": peak_maxrss_kib,
                "after_rss_kib": after_rss_kib,
                "hwm_reset": hwm_reset,
                "threads": threads_after,
            }
        )
    )


def bench_import(pool: list[bytes], sizes: list[int], hashing: dict, tmp: Path) -> None:
    from image_import.adapters.aws import client

    results = {}
    with MotoServer(tmp) as moto:
        use_endpoint(moto.url)
        s3 = client("s3")
        for bucket in (STAGING_BUCKET, STORE_BUCKET):
            s3.create_bucket(Bucket=bucket)
        print(f"\n  moto S3 server: pid {moto.proc.pid} at {moto.url} (separate process; temp files in {tmp})")
        for size in sizes:
            key = f"staging/bench-{size}mib"
            print(f"  {size} MiB: staging the source (streaming multipart write) ...", end="", flush=True)
            setup = stage_source(pool, size, key)
            print(f" {setup:.1f} s; fresh child: copy, read+hash, read, write ...", end="", flush=True)
            t0 = time.perf_counter()
            result = run_import_child(moto.url, key, size, moto.proc.pid)
            print(f" {time.perf_counter() - t0:.1f} s")
            result["setup"] = setup
            s3.delete_object(Bucket=STAGING_BUCKET, Key=key)
            results[size] = result
            if result["written"] != size * MIB or result["stored"] != size * MIB or not result["digests_match"]:
                print(f"  !! {size} MiB: inconsistent copy: {result}")
        moto_hwm = moto.hwm_mib()

    cores = os.cpu_count() or 1
    section("2. Import to store: Bucket.chunks -> hashed(ParallelHasher) -> Bucket.write, moto S3 server")
    headers = ["", *(f"{s} MiB" for s in sizes)]
    rows: list[list[str]] = []

    def add(label: str, fn) -> None:
        rows.append([label, *(fn(s, results[s]["phases"]) for s in sizes)])

    def busy(p: dict) -> str:
        return f"{p['our_cpu']:.1f} + {p['moto_cpu']:.1f} = {(p['our_cpu'] + p['moto_cpu']) / (cores * p['wall']):.0%}"

    add("full copy: read + hash + write (s)", lambda s, p: f"{p['copy']['wall']:.2f}")
    add("  of which complete_multipart_upload (s)", lambda s, p: f"{p['copy']['complete']:.2f}")
    add("full copy (MiB/s)", lambda s, p: fmt_rate(rate(s, p["copy"]["wall"])))
    add("full copy without the complete call (MiB/s)", lambda s, p: fmt_rate(_net_rate(s, p["copy"])))
    add("read + hash only, no write (MiB/s)", lambda s, p: fmt_rate(rate(s, p["read_hash"]["wall"])))
    add("read only (MiB/s)", lambda s, p: fmt_rate(rate(s, p["read"]["wall"])))
    add("write only, from memory, without complete (MiB/s)", lambda s, p: fmt_rate(_net_rate(s, p["write"])))
    add("raw hash, two threads (MiB/s, from 1.)", lambda s, p: fmt_rate(hashing[s]["threads"]))
    add("raw hash, one thread (MiB/s, from 1.)", lambda s, p: fmt_rate(hashing[s]["serial"]))
    add("full copy / raw two-thread hash", lambda s, p: f"{rate(s, p['copy']['wall']) / hashing[s]['threads']:.2f}")
    add("full copy / raw one-thread hash", lambda s, p: f"{rate(s, p['copy']['wall']) / hashing[s]['serial']:.2f}")
    add(
        "copy w/o complete / raw two-thread hash", lambda s, p: f"{_net_rate(s, p['copy']) / hashing[s]['threads']:.2f}"
    )
    add(
        "read+hash / raw two-thread hash", lambda s, p: f"{rate(s, p['read_hash']['wall']) / hashing[s]['threads']:.2f}"
    )
    add("read+hash / raw one-thread hash", lambda s, p: f"{rate(s, p['read_hash']['wall']) / hashing[s]['serial']:.2f}")
    add(f"CPU s, ours + moto = % of {cores} cores: full copy", lambda s, p: busy(p["copy"]))
    add("  read + hash", lambda s, p: busy(p["read_hash"]))
    add("  read only", lambda s, p: busy(p["read"]))
    add("  write only (incl. complete)", lambda s, p: busy(p["write"]))
    rows.append(
        ["setup: staging upload, same writer (MiB/s)", *(fmt_rate(rate(s, results[s]["setup"])) for s in sizes)]
    )
    print(table(headers, rows))
    print(f"  hash algorithm: {results[sizes[0]]['algorithm']} (from {REPO / 'config'}); 8 MiB chunks and parts.")
    print("  moto's complete_multipart_upload concatenates every part server-side (slow, not S3-like), so the")
    print("  'without the complete call' and 'read + hash only' rows are the ones that describe our code. On a")
    print("  2-core box the moto server competes with the two hash threads for CPU (see the CPU rows).")

    section("3. Peak memory of the process running the import step (fresh child per size; S3 in moto's process)")
    headers = ["", *(f"{s} MiB" for s in sizes)]

    def mib(kib: int | None) -> str:
        return "-" if kib is None else f"{kib / 1024:,.1f}"

    def delta(r: dict) -> int | None:
        if r["peak_hwm_kib"] is not None and r["hwm_reset"]:
            return r["peak_hwm_kib"] - r["base_rss_kib"]
        return r["peak_maxrss_kib"] - r["base_maxrss_kib"]  # no /proc: coarse fallback

    rows = [
        ["RSS before the copy (baseline, MiB)", *(mib(results[s]["base_rss_kib"]) for s in sizes)],
        ["RSS high-water mark after the copy (VmHWM, MiB)", *(mib(results[s]["peak_hwm_kib"]) for s in sizes)],
        ["peak - baseline (MiB)", *(mib(delta(results[s])) for s in sizes)],
        ["  in 8 MiB chunks", *(f"{delta(results[s]) / 8192:.1f}" for s in sizes)],
        ["RSS right after the copy (MiB)", *(mib(results[s]["after_rss_kib"]) for s in sizes)],
        ["(ru_maxrss after the copy, MiB; see note)", *(mib(results[s]["peak_maxrss_kib"]) for s in sizes)],
        ["threads alive after the copy", *(str(results[s]["threads"]) for s in sizes)],
    ]
    print(table(headers, rows))
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        diff = (delta(results[large]) - delta(results[small])) / 1024
        print(f"  peak - baseline, {large} MiB minus {small} MiB: {diff:+.1f} MiB (flat memory: a few MiB at most)")
    if all(results[s]["hwm_reset"] for s in sizes):
        print("  VmHWM was reset just before the copy (/proc/self/clear_refs 5), so the peak is the copy's own.")
    print("  ru_maxrss is shown for reference only: Linux carries the parent's RSS across fork+exec into it,")
    print("  so in a child of this (64 MiB buffer holding) process it mostly reports the parent's size.")
    if moto_hwm is not None:
        print(f"  For contrast, the moto server process peaked at {moto_hwm:,.0f} MiB RSS.")


def _net_rate(size_mib: int, phase: dict) -> float:
    return rate(size_mib, phase["wall"] - phase["complete"])


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="one import-to-store measurement (run by benchmarks/run.py)")
    parser.add_argument("--child-import", metavar="KEY", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--moto-pid", type=int, required=True)
    args = parser.parse_args(argv)
    child_import(args.child_import, args.size, args.moto_pid)
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))

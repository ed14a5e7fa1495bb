"""Performance figures for the image import service on this machine. Prints; never asserts on time.

    .venv/bin/python benchmarks/run.py                # 64 MiB and 1 GiB (about 2-3 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick        # 64 MiB only
    .venv/bin/python benchmarks/run.py --sizes 64,256

1. raw hashing of the same bytes (MD5, SHA-512, both serially, both on two threads, ParallelHasher)
2. import-to-store throughput: Bucket.chunks -> hashed(ParallelHasher) -> Bucket.write against a
   moto S3 server in a separate process, plus the read+hash and read-only parts alone
3. peak RSS of the process doing the import step, one fresh child process per size
4. cold import time of every Lambda function module, fresh interpreter, .pyc present

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

MIB = 1024 * 1024
CHUNK = 8 * MIB  # same as image_import.adapters.objects.CHUNK_SIZE
POOL_CHUNKS = 8  # pre-generated pool: 8 x 8 MiB = 64 MiB of random bytes, cycled
REPO = Path(__file__).resolve().parent.parent
API_BUDGET_MS = 250.0
API_LABEL = "functions/api/app.py"
IMPORT_RUNS = 5
STAGING_BUCKET = "bench-staging"
STORE_BUCKET = "bench-store"
REFERENCE_IMPORT = "import boto3, pydantic; from aws_lambda_powertools.event_handler import APIGatewayRestResolver"

DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "image-import-benchmark",
    "IMAGE_IMPORT_CONFIG_DIR": str(REPO / "config"),
    "IMAGES_TABLE": "bench-images",
    "TASKS_TABLE": "bench-tasks",
    "STAGING_BUCKET": STAGING_BUCKET,
    "STORE_BUCKET": STORE_BUCKET,
}


# ---------------------------------------------------------------------------------------------
# helpers


def chunk_pool() -> list[bytes]:
    """Random bytes generated once; every benchmark cycles through these, so generation is not timed."""
    return [os.urandom(CHUNK) for _ in range(POOL_CHUNKS)]


def source_chunks(pool: list[bytes], size_mib: int) -> Iterator[bytes]:
    """size_mib MiB as 8 MiB chunks (the last one shorter if size_mib is not a multiple of 8)."""
    remaining = size_mib * MIB
    i = 0
    while remaining > 0:
        chunk = pool[i % len(pool)]
        if remaining < len(chunk):
            chunk = chunk[:remaining]
        remaining -= len(chunk)
        i += 1
        yield chunk


def rate(size_mib: float, seconds: float) -> float:
    return size_mib / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A plain text table; align is one char per column, 'l' or 'r' (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        out = []
        for cell, width, a in zip(cells, widths, align, strict=True):
            out.append(str(cell).ljust(width) if a == "l" else str(cell).rjust(width))
        return "  " + "  ".join(out).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def section(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(DUMMY_AWS_ENV)
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------------------------
# 1. raw hashing


def _hash_serial(chunks: list[bytes], algos: tuple[str, ...]) -> None:
    digests = [hashlib.new(a) for a in algos]
    for chunk in chunks:
        for d in digests:
            d.update(chunk)
    for d in digests:
        d.digest()


def _hash_two_threads(chunks: list[bytes]) -> None:
    def run(algo: str) -> None:
        d = hashlib.new(algo)
        for chunk in chunks:
            d.update(chunk)
        d.digest()

    threads = [threading.Thread(target=run, args=(a,)) for a in ("md5", "sha512")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _hash_parallel_hasher(chunks: list[bytes]) -> None:
    from image_import.data.transfer import ParallelHasher

    hasher = ParallelHasher("sha512")
    for chunk in chunks:
        hasher.update(chunk)
    hasher.finish()


HASH_CASES = [
    ("md5 alone", "md5", lambda c: _hash_serial(c, ("md5",))),
    ("sha512 alone", "sha512", lambda c: _hash_serial(c, ("sha512",))),
    ("md5 + sha512, one thread (Glance)", "serial", lambda c: _hash_serial(c, ("md5", "sha512"))),
    ("md5 || sha512, two free-running threads", "threads", _hash_two_threads),
    ("ParallelHasher('sha512') (domain, lock-step per chunk)", "parallel_hasher", _hash_parallel_hasher),
]


def bench_hashing(pool: list[bytes], sizes: list[int]) -> dict[int, dict[str, float]]:
    section("1. Raw hashing, 8 MiB update() calls from a pre-generated buffer (MiB/s, best of N)")
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        chunks = list(source_chunks(pool, size))  # references into the pool, no copies
        repeats = max(2, min(16, 1024 // size))  # at least ~1 GiB hashed per case
        best = {key: float("inf") for _, key, _ in HASH_CASES}
        for _, _, fn in HASH_CASES:
            fn(chunks[:2])  # warm-up
        for _ in range(repeats):  # round-robin, so drift in CPU speed hits every case alike
            for _, key, fn in HASH_CASES:
                best[key] = min(best[key], _timed(fn, chunks))
        results[size] = {key: rate(size, seconds) for key, seconds in best.items()}
        results[size]["repeats"] = repeats
    headers = ["", *(f"{s} MiB (best of {int(results[s]['repeats'])})" for s in sizes)]
    rows = [[label, *(fmt_rate(results[s][key]) for s in sizes)] for label, key, _ in HASH_CASES]
    print(table(headers, rows))
    for s in sizes:
        r = results[s]
        print(
            f"  {s} MiB: two threads = {r['threads'] / r['serial']:.2f}x one thread; "
            f"ParallelHasher = {r['parallel_hasher'] / r['threads']:.2f}x free-running threads"
        )
    return results


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# moto S3 in a separate process


class MotoServer:
    """`python -m moto.server` on a free 127.0.0.1 port; its spooled temp files go under tmp_dir."""

    def __init__(self, tmp_dir: Path):
        self.tmp_dir = tmp_dir / "moto-tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = tmp_dir / "moto.log"

    def __enter__(self) -> MotoServer:
        env = child_env({"TMPDIR": str(self.tmp_dir)})
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches us, we stop it
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start within 30 s") from None
                time.sleep(0.1)

    def hwm_mib(self) -> float | None:
        kib = _status_kib("VmHWM", self.proc.pid)
        return None if kib is None else kib / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        with contextlib.suppress(Exception):
            self._log.close()

    def __exit__(self, *exc) -> None:
        self.stop()


def use_endpoint(url: str) -> None:
    """Point this process's boto3 (and the domain's cached clients) at the moto server."""
    os.environ.update(DUMMY_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = url
    from image_import.adapters.aws import reset_clients

    reset_clients()


# ---------------------------------------------------------------------------------------------
# 2 + 3. import to store (the parent stages the source, a fresh child copies and measures)


def stage_source(pool: list[bytes], size_mib: int, key: str) -> float:
    """Upload the source object with the domain's streaming multipart writer; returns seconds."""
    from image_import.adapters.objects import Bucket

    t0 = time.perf_counter()
    written = Bucket(STAGING_BUCKET).write(key, source_chunks(pool, size_mib))
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


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


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
    from image_import.data.transfer import ParallelHasher, hashed
    from image_import.settings import get_settings

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
    base_rss_kib = _status_kib("VmRSS")
    base_maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # 1) the store path of steps.import_to_store, minus DynamoDB
    store_key = f"images/{key.rsplit('/', 1)[-1]}"
    hasher = ParallelHasher(settings.hashing_algorithm)

    def copy():
        written = store.write(store_key, hashed(staging.chunks(key), hasher, settings.image_size_cap))
        return written, hasher.finish()

    written, digests = phase("copy", copy)
    peak_hwm_kib = _status_kib("VmHWM")
    peak_maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    after_rss_kib = _status_kib("VmRSS")
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
    phase("write", lambda: store.write(store_key, (pool[i % 2] for i in range(size_mib * MIB // CHUNK))))
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


# ---------------------------------------------------------------------------------------------
# 4. cold imports

_LOAD_BY_PATH = """
import importlib.util, sys, time  # the Lambda runtime has importlib loaded before it imports a handler
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - t0)
"""

_STATEMENT = """
import time
t0 = time.perf_counter()
{statement}
print(time.perf_counter() - t0)
"""


def _run_python(code: str, env: dict, extra_flags: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *(extra_flags or []), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )


def _run_checked(code: str, env: dict, flags: list[str]) -> tuple[float, float]:
    """One fresh interpreter: (seconds the child measured, process wall seconds)."""
    t0 = time.perf_counter()
    proc = _run_python(code, env, flags)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return float(proc.stdout.strip().splitlines()[-1]), wall


def _measure_all(targets: list[tuple[str, str]], env: dict, flags: list[str]) -> dict[str, tuple[list, list]]:
    """A warm-up run of each (writes the .pyc), then IMPORT_RUNS rounds over all targets (round-robin,
    so a slow spell of this machine does not land on one target)."""
    for _, code in targets:
        _run_checked(code, env, flags)
    out: dict[str, tuple[list, list]] = {label: ([], []) for label, _ in targets}
    for _ in range(IMPORT_RUNS):
        for label, code in targets:
            inside, wall = _run_checked(code, env, flags)
            out[label][0].append(inside)
            out[label][1].append(wall)
    return out


def _importtime(code: str, env: dict, flags: list[str]) -> list[tuple[str, float]]:
    """(module, self ms) in import order, from one `-X importtime` run."""
    proc = _run_python(code, env, [*flags, "-X", "importtime"])
    out = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line[len("import time:") :].split("|", 2)
            out.append((name.strip(), int(self_us) / 1000))
    return out


def _import_cost_by_package(code: str, env: dict, flags: list[str], n: int = 8) -> list[tuple[str, float]]:
    """Self import time summed by top-level package, leaving out what interpreter start-up imports."""
    at_startup = {name for name, _ in _importtime("pass", env, flags)}
    totals: dict[str, float] = {}
    for name, ms in _importtime(code, env, flags):
        if name not in at_startup:
            root = name.split(".", 1)[0]
            totals[root] = totals.get(root, 0.0) + ms
    return sorted(totals.items(), key=lambda kv: -kv[1])[:n]


def bench_cold_imports(tmp: Path) -> None:
    section(f"4. Cold import in a fresh interpreter, .pyc present (median of {IMPORT_RUNS}; ms)")
    prefix = tmp / "pycache"  # .pyc for everything go here (warm-up run), nothing is written in the repo
    flags = ["-X", f"pycache_prefix={prefix}"]
    env = child_env()
    functions = sorted(p.parent for p in (REPO / "functions").glob("*/app.py"))
    targets: list[tuple[str, str]] = [
        (f"functions/{d.name}/app.py", _LOAD_BY_PATH.format(path=str(d / "app.py"))) for d in functions
    ]
    targets.append(("reference statement (below)", _STATEMENT.format(statement=REFERENCE_IMPORT)))
    targets.append(("nothing (python -c pass): interpreter only", _STATEMENT.format(statement="pass")))

    measured = _measure_all(targets, env, flags)
    compiled = sum(1 for _ in prefix.rglob("*.pyc"))
    rows = []
    for label, _ in targets:
        inside, wall = measured[label]
        median_ms = statistics.median(inside) * 1000
        budget = ""
        if label == API_LABEL:
            budget = f"budget {API_BUDGET_MS:.0f} ms: " + ("OK" if median_ms <= API_BUDGET_MS else "OVER BUDGET")
        rows.append(
            [
                label,
                f"{median_ms:.0f}",
                f"{min(inside) * 1000:.0f}",
                f"{max(inside) * 1000:.0f}",
                f"{statistics.median(wall) * 1000:.0f}",
                budget,
            ]
        )
    print(table(["module", "import", "min", "max", "process wall", ""], rows, "lrrrrl"))
    print(f"  reference statement: {REFERENCE_IMPORT}")
    print("  'import' = time to load the module inside an already started interpreter (what a Lambda cold start")
    print("  adds on top of the runtime's own start-up); 'process wall' adds interpreter start-up and exit.")
    print(f"  .pyc: one discarded warm-up run per module compiled {compiled} files into a temp -X pycache_prefix")
    print("  (nothing is written in the repo); without .pyc (a Lambda zip without __pycache__) expect several")
    print("  times more. Local Python is 3.11; template.yaml deploys python3.12, so treat these as indicative.")

    # where the time goes: the API function and the slowest other function
    code_of = dict(targets)
    slowest = max(
        (label for label in code_of if label.startswith("functions/") and label != API_LABEL),
        key=lambda label: statistics.median(measured[label][0]),
        default=None,
    )
    for label in (API_LABEL, slowest):
        if label in code_of:
            print(f"  {label}: import time by top-level package (self time summed, one -X importtime run):")
            print(
                "    "
                + ", ".join(f"{name} {ms:.0f}" for name, ms in _import_cost_by_package(code_of[label], env, flags))
            )


# ---------------------------------------------------------------------------------------------


def machine_header() -> None:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print("image import benchmarks (figures only; nothing here asserts on time)")
    print(
        f"  {os.cpu_count()} CPUs ({cpu}); Python {platform.python_version()}; {ssl.OPENSSL_VERSION}; "
        f"{platform.system()} {platform.release()}"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,1024", help="import sizes in MiB, comma separated (default 64,1024)")
    parser.add_argument("--quick", action="store_true", help="64 MiB only")
    parser.add_argument("--skip", default="", help="comma separated sections to skip: hash,import,imports")
    parser.add_argument("--child-import", metavar="KEY", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--moto-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [64] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(s <= 0 for s in sizes):
        parser.error("--sizes needs positive integers (MiB)")
    args.sizes = sorted(set(sizes))
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child_import:
        child_import(args.child_import, args.size, args.moto_pid)
        return 0

    # SIGTERM -> normal unwinding, so the moto server and the temp dir are cleaned up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="image-import-bench-"))
    started = time.perf_counter()
    try:
        machine_header()
        print(f"  sizes: {', '.join(f'{s} MiB' for s in args.sizes)}; temp dir {tmp}")
        pool = chunk_pool()
        hashing = bench_hashing(pool, args.sizes) if "hash" not in args.skip or "import" not in args.skip else {}
        if "import" not in args.skip:
            bench_import(pool, args.sizes, hashing, tmp)
        del pool
        if "imports" not in args.skip:
            bench_cold_imports(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

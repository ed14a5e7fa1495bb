"""Performance figures for the image import service on this machine. Prints; never asserts on time.

    .venv/bin/python benchmarks/run.py                # 64 MiB and 1 GiB (about 2-3 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick        # 64 MiB only
    .venv/bin/python benchmarks/run.py --sizes 64,256

1. raw hashing of the same bytes (MD5, SHA-512, both serially, both on two threads, ParallelHasher)
2. streaming store throughput (PUT /file's path): Bucket.chunks -> hashed(ParallelHasher) -> Bucket.write against a
   moto S3 server in a separate process, plus the read+hash and read-only parts alone
3. peak RSS of the process doing the import step, one fresh child process per size
4. cold import time of every Lambda function module, fresh interpreter, .pyc present
5. the store copy in passes: one pass vs 64 MiB passes, bytes re-read after a broken pass,
   read+hash against the raw two-thread hashing rates, peak RSS, the largest state (passes.py)
6. the local stack (make run) importing a large file staged through presigned part URLs: peak RSS of
   its process tree, staging rate, import time (LOCAL_MEMORY_MIB, default 4096; --quick: 256)
7. beside real Glance 33 (when its peer is installed): the same file staged and imported by both on the same
   kind of moto S3: staging, import and total time, peak RSS, ours / Glance (SIDE_BY_SIDE_MIB, default 512)
8. a project's image list against 100 to 100,000 images in another project: time, DynamoDB calls and items
   read (flat: the list reads indexes), and an admin's whole-table list for contrast (--quick: up to 1,000)

One module per figure (hashing.py: 1, import_to_store.py: 2 and 3, cold_start.py: 4, passes.py: 5, local_memory.py: 6,
glance_side_by_side.py: 7,
list_latency.py: 8) on a shared
harness.py. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from cold_start import bench_cold_imports
from glance_side_by_side import bench_glance_side_by_side
from harness import chunk_pool, machine_header
from hashing import bench_hashing
from import_to_store import bench_import, child_import
from list_latency import bench_list_latency
from local_memory import bench_local_memory
from passes import bench_passes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,1024", help="import sizes in MiB, comma separated (default 64,1024)")
    parser.add_argument("--quick", action="store_true", help="64 MiB only")
    parser.add_argument(
        "--skip", default="", help="comma separated sections to skip: hash,import,imports,passes,local,glance"
    )
    # the child of figures 2 and 3 (import_to_store.py runs itself; kept here for scripts that call run.py)
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
        if "passes" not in args.skip:
            bench_passes(args.sizes, tmp)
        if "local" not in args.skip:
            bench_local_memory(tmp, 256 if args.quick else None)
        if "glance" not in args.skip:
            bench_glance_side_by_side(tmp, 128 if args.quick else None)
        if "lists" not in args.skip:
            bench_list_latency([100, 1000] if args.quick else [100, 1000, 10_000, 100_000])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

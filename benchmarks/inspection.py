"""What format inspection costs on the hashing path. Prints; never asserts on time.

    .venv/bin/python benchmarks/inspection.py              # 256 MiB of 8 MiB chunks
    .venv/bin/python benchmarks/inspection.py --mib 1024

The same chunks (generated beforehand, so generating data is not timed) go through
`hashed(ParallelHasher)` alone, then through `inspected(FormatCheck)` + `hashed(ParallelHasher)`,
the store step's pipeline, and through the inspection alone; best of N runs, round-robin (the
machine's other load shows as noise in the first two: the inspection-only rows are the cost). The data is raw bytes, then a qcow2 header
in front of them (the inspectors that matched keep reading), then a streamOptimized VMDK (the one
format whose inspector keeps a tail of the stream, copying every chunk).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from image_import.transfer.hashing import ParallelHasher, hashed  # noqa: E402
from image_import.transfer.inspection import FormatCheck, FormatOptions, inspected  # noqa: E402
from tests.support import disk_images  # noqa: E402

CHUNK = 8 * 1024 * 1024


def run(chunks: list[bytes], disk_format: str | None, hashing: bool = True) -> tuple[float, int]:
    if not hashing:  # the inspection alone, no hashing
        check = FormatCheck(disk_format, "bare", FormatOptions())
        start = time.perf_counter()
        for chunk in chunks:
            check.feed(chunk)
        check.verdict()
        return time.perf_counter() - start, check.held_bytes
    hasher = ParallelHasher("sha512")
    stream = chunks
    check = None
    if disk_format:
        check = FormatCheck(disk_format, "bare", FormatOptions())
        stream = inspected(chunks, check)
    start = time.perf_counter()
    for _ in hashed(stream, hasher, size_cap=1 << 62):
        pass
    hasher.finish()
    if check:
        check.verdict()
    return time.perf_counter() - start, check.held_bytes if check else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    body = [os.urandom(CHUNK) for _ in range(args.mib * 1024 * 1024 // CHUNK)]
    stream_vmdk = disk_images.vmdk(create_type="streamOptimized", stream_optimized_footer=True)
    cases = {
        "hash only (raw data)": (body, None),
        "hash + inspect, raw": (body, "raw"),
        "hash + inspect, qcow2": ([disk_images.qcow2(), *body], "qcow2"),
        "hash + inspect, vmdk streamOptimized": ([stream_vmdk[:65536], *body, stream_vmdk[65536:]], "vmdk"),
    }
    best: dict[str, float] = {}
    held: dict[str, int] = {}
    for _ in range(args.runs):
        for name, (chunks, disk_format) in cases.items():
            seconds, held[name] = run(chunks, disk_format)
            best[name] = min(best.get(name, seconds), seconds)
            if disk_format:
                alone = f"  inspect only, {disk_format}"
                seconds, held[alone] = run(chunks, disk_format, hashing=False)
                best[alone] = min(best.get(alone, seconds), seconds)
    print(f"{args.mib} MiB in {CHUNK // (1024 * 1024)} MiB chunks, best of {args.runs}")
    for name, seconds in best.items():
        rate = args.mib / seconds
        print(f"  {name:40} {rate:8.0f} MiB/s  {seconds * 1000:7.1f} ms  inspectors hold {held[name] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

"""Figure 1: raw hashing of the same bytes (MD5, SHA-512, both serially, both on two threads, ParallelHasher).

The upper limit of the import step's hashing on this machine; figure 2 compares the import with it.
"""

from __future__ import annotations

import hashlib
import threading
import time

from harness import fmt_rate, rate, section, source_chunks, table


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
    from image_import.transfer.hashing import ParallelHasher

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

"""Stream staged data into the store once, hashing MD5 and the multihash in parallel.

hashlib releases the GIL for large updates, so each digest gets its own thread: the copy
runs near the speed of the slower hash instead of the sum of both (Glance hashes both in one
thread). Memory is bounded by a few chunks whatever the image size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class Digests:
    size: int
    checksum: str  # MD5 hex, Glance's "checksum"
    hash_algo: str
    hash_value: str


class ParallelHasher:
    """Feed chunks in order; MD5 and the multihash each update on a thread of their own."""

    def __init__(self, algorithm: str):
        self.algorithm = algorithm
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._multi = hashlib.new(algorithm)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash")
        self._pending: list = []
        self.size = 0

    def update(self, chunk: bytes) -> None:
        # wait for the previous chunk's updates so each digest sees chunks in order
        # and at most two chunks are referenced at any time
        self._drain()
        self.size += len(chunk)
        self._pending = [self._pool.submit(self._md5.update, chunk), self._pool.submit(self._multi.update, chunk)]

    def _drain(self) -> None:
        for future in self._pending:
            future.result()
        self._pending = []

    def finish(self) -> Digests:
        self._drain()
        self._pool.shutdown()
        return Digests(self.size, self._md5.hexdigest(), self.algorithm, self._multi.hexdigest())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def hashed(chunks: Iterable[bytes], hasher: ParallelHasher, size_cap: int) -> Iterator[bytes]:
    """Pass chunks through, hashing them and enforcing the size cap."""
    from image_import.errors import ImportFailed

    for chunk in chunks:
        if hasher.size + len(chunk) > size_cap:
            raise ImportFailed(f"Image exceeds the size cap of {size_cap} bytes")
        hasher.update(chunk)
        yield chunk

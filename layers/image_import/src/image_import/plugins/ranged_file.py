"""A read-only, seekable file over an object read by range: what zipfile, gzip, bz2 and lzma read from.

Memory is one read-ahead buffer (8 MiB), whatever the object's size: sequential reads become ranged
GETs of that size, and a seek (zipfile's look at the central directory at the end) costs one more.
"""

from __future__ import annotations

import io
from collections.abc import Callable

READ_AHEAD = 8 * 1024 * 1024


class RangedFile(io.RawIOBase):
    def __init__(self, size: int, read: Callable[[int, int], bytes], read_ahead: int = READ_AHEAD):
        super().__init__()
        self.size, self._read, self.read_ahead = size, read, read_ahead
        self._position = 0
        self._buffer_start, self._buffer = 0, b""
        self.bytes_fetched = 0  # what was read from the object, for progress and tests

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, target) -> int:  # type: ignore[override]
        view = memoryview(target).cast("B")
        if self._position >= self.size or not len(view):
            return 0
        offset = self._position - self._buffer_start
        if not 0 <= offset < len(self._buffer):
            last = min(self.size, self._position + self.read_ahead) - 1  # a larger ask gets a short read
            self._buffer = self._read(self._position, last)
            self._buffer_start, offset = self._position, 0
            self.bytes_fetched += len(self._buffer)
            if not self._buffer:
                return 0
        count = min(len(view), len(self._buffer) - offset)
        view[:count] = self._buffer[offset : offset + count]
        self._position += count
        return count

"""S3 multipart parts: the one rule for their size, shared by direct uploads, web-download and the store copy."""

from __future__ import annotations

MIB = 1024 * 1024
MIN_PART_SIZE = 8 * MIB  # S3's minimum is 5 MiB (every part but the last)
MAX_PART_SIZE = 512 * MIB  # S3 allows 5 GiB; fewer, larger parts serve a server-side copy, not a buffer
MAX_PARTS = 10_000  # S3's limit
ALIGN = MIB  # part sizes are whole MiB


def part_size_for(size: int, preferred: int | None = None) -> int:
    """Whole MiB: ``preferred`` (default: the smallest) within [MIN_PART_SIZE, MAX_PART_SIZE], or more if
    ``size`` needs it to fit S3's 10,000 parts."""
    wanted = max(min(preferred or MIN_PART_SIZE, MAX_PART_SIZE), MIN_PART_SIZE, -(-size // MAX_PARTS))
    return -(-wanted // ALIGN) * ALIGN

"""S3 multipart parts: the one rule for their size, shared by direct uploads, web-download, the store copy,
stage and upload writes and a copy inside the staging bucket. Pure arithmetic: the adapters (boto3) take
the size they are given (adapters/objects.py has no part size of its own)."""

from __future__ import annotations

MIB = 1024 * 1024
MIN_PART_SIZE = 8 * MIB  # S3's minimum is 5 MiB (every part but the last)
MAX_PART_SIZE = 512 * MIB  # S3 allows 5 GiB; fewer, larger parts serve a server-side copy, not a buffer
MAX_PARTS = 10_000  # S3's limit
ALIGN = MIB  # part sizes are whole MiB
# a server-side copy inside a bucket (a direct upload into staging): one CopyObject up to a part of this
# size, above it UploadPartCopy parts of at least this (fewer requests; nothing is buffered)
COPY_PART_SIZE = 256 * MIB


def part_size_for(size: int, preferred: int | None = None) -> int:
    """Whole MiB: ``preferred`` (default: the smallest) within [MIN_PART_SIZE, MAX_PART_SIZE], or more if
    ``size`` needs it to fit S3's 10,000 parts."""
    wanted = max(min(preferred or MIN_PART_SIZE, MAX_PART_SIZE), MIN_PART_SIZE, -(-size // MAX_PARTS))
    return -(-wanted // ALIGN) * ALIGN

"""Which bytes go in which part, and which parts are still to send: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB  # every part but the last
S3_MAX_PART = 5 * 1024 * MiB
S3_MAX_PARTS = 10_000


class OfferError(ValueError):
    """The service offered parts that S3 would refuse, or that do not cover the file."""


@dataclass(frozen=True)
class Part:
    number: int  # 1-based, as S3 numbers them
    offset: int
    length: int


def part_size_for(size: int, minimum: int = 8 * MiB) -> int:
    """The smallest whole-MiB part size >= ``minimum`` (>= S3's 5 MiB) that fits ``size`` in 10,000 parts.

    The service picks the part size of an offer (this is the rule it uses); the client uses this to
    check an offer and to say what to expect before asking for one.
    """
    needed = -(-size // S3_MAX_PARTS)
    return max(minimum, S3_MIN_PART, -(-needed // MiB) * MiB)


def plan_parts(size: int, part_size: int) -> list[Part]:
    """The parts of a ``size``-byte file cut in ``part_size`` pieces (one empty part for an empty file)."""
    if part_size <= 0:
        raise OfferError(f"part size must be positive, got {part_size}")
    if size == 0:
        return [Part(1, 0, 0)]
    return [Part(n, offset, min(part_size, size - offset)) for n, offset in enumerate(range(0, size, part_size), 1)]


def check_offer(size: int, part_size: int, part_numbers: list[int]) -> list[Part]:
    """The plan for an offered multipart upload, after checking it against S3's limits and the file."""
    parts = plan_parts(size, part_size)
    if len(parts) > 1 and not S3_MIN_PART <= part_size <= S3_MAX_PART:
        raise OfferError(f"offered part size {part_size} is outside S3's {S3_MIN_PART}..{S3_MAX_PART} bytes")
    if len(parts) > S3_MAX_PARTS:
        raise OfferError(f"{len(parts)} parts of {part_size} bytes is over S3's {S3_MAX_PARTS} parts")
    if sorted(part_numbers) != [p.number for p in parts]:
        raise OfferError(
            f"the offer has {len(part_numbers)} part URLs; a {size}-byte file in parts of {part_size} needs {len(parts)}"
        )
    return parts


def missing_parts(parts: list[Part], done: set[int]) -> list[Part]:
    """The parts still to send, in order: every part not recorded as stored."""
    return [p for p in parts if p.number not in done]

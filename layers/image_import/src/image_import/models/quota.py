"""What an image counts against its owner's quotas (Glance's unified limits), and a limit one write claims.

Glance adds usage up from its records on every check (glance/db/sqlalchemy/api.py, ``user_get_*``), so two
concurrent checks both pass ("best-effort"). Here each project has counters, changed in the same DynamoDB
transaction as the image write they count (adapters/records/usage.py): a write that would take a project over a
limit is refused by the store itself, so concurrent requests are admitted exactly up to the limit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from image_import.models.image import IMPORTING_TO_STORES_KEY

if TYPE_CHECKING:
    from image_import.models.image import Image

MIB = 1024 * 1024
IMAGE_SIZE_TOTAL = "image_size_total"  # MiB of data in stores (size x the stores holding it)
IMAGE_STAGE_TOTAL = "image_stage_total"  # MiB of data in staging
IMAGE_COUNT_TOTAL = "image_count_total"  # images
IMAGE_COUNT_UPLOADING = "image_count_uploading"  # images being uploaded, staged, imported or copied
RESOURCES = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, IMAGE_COUNT_TOTAL, IMAGE_COUNT_UPLOADING)
# counted in bytes, limited (and shown) in MiB, as Glance (usage // MiB)
IN_BYTES = frozenset({IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL})

_NOT_COUNTED = ("killed", "deleted", "pending_delete")
_UPLOADING = ("saving", "uploading", "importing")
_IN_STORES = ("active", "deactivated")


def contribution(image: Image | None) -> dict[str, int]:
    """What ``image`` adds to its owner's counters (bytes for the sizes), by Glance's rules of usage:
    every image not killed/deleted counts; data in stores counts once per store; an image uploading,
    staged or importing counts its staged bytes and as one upload; so does one being copied to more
    stores (``os_glance_importing_to_stores`` not empty)."""
    if image is None or image.owner is None or image.status in _NOT_COUNTED:
        return {}
    size = image.size or 0
    copying = bool(image.properties.get(IMPORTING_TO_STORES_KEY)) and image.status not in _UPLOADING
    # an import's store copy counts from the write that records it (its digests), not from activation
    stored = image.status in _IN_STORES or (image.status == "importing" and image.checksum is not None)
    in_stores = len(image.stores) if image.stores else (1 if stored else 0)
    staged = image.status in ("uploading", "importing") or copying
    counts = {
        IMAGE_SIZE_TOTAL: size * in_stores,
        # bytes an import is still writing (a download's parts, a plugin's replacement) count as they arrive
        IMAGE_STAGE_TOTAL: (size if staged else 0) + image.arriving,
        IMAGE_COUNT_TOTAL: 1,
        IMAGE_COUNT_UPLOADING: 1 if image.status in _UPLOADING or copying else 0,
    }
    return {name: value for name, value in counts.items() if value}


Counted = tuple[str | None, dict[str, int]]  # an image's owner and its contribution, as stored


def counted(image: Image | None) -> Counted:
    return (image.owner if image is not None else None), contribution(image)


def changes(before: Counted, after: Counted) -> dict[str, dict[str, int]]:
    """Per project, how a write from ``before`` to ``after`` moves its counters (only what moves)."""
    moves: dict[str, dict[str, int]] = {}
    for (owner, counts), sign in ((before, -1), (after, 1)):
        for name, value in counts.items():
            project = moves.setdefault(owner, {})  # type: ignore[arg-type]  # counted: it has an owner
            project[name] = project.get(name, 0) + sign * value
    return {p: {n: v for n, v in c.items() if v} for p, c in moves.items() if any(c.values())}


def in_limit_units(resource: str, counted: int) -> int:
    """A counter as its limit reads it: MiB (rounded down, as Glance) for the sizes."""
    return counted // MIB if resource in IN_BYTES else counted


@dataclass(frozen=True)
class Claim:
    """One limit a write must keep its project within: Glance's ``enforce_*`` call at that point.

    As oslo.limit: refused when ``usage + delta > limit``. ``delta`` is Glance's (in the limit's units: what
    the request will add, known beforehand); ``after_write``: the usage checked includes this write's own
    change (Glance checks some limits after it saved the status change, e.g. image_count_uploading).
    """

    resource: str
    limit: int  # >= 0 (an unlimited resource makes no claim)
    delta: int = 0
    after_write: bool = False
    # a claim of what a write adds as the bytes arrive (quotas/growth.py): made only when the write raises
    # the counter, and ``overrun_by`` an operation, that may take the project's one overrun slot
    rising_only: bool = False
    overrun_by: str | None = None
    # a request's last write (PUT /stage, PUT /file): within the limit, or across it while nobody holds the
    # overrun slot and the project is not over already; it ends there, so it takes no slot
    may_cross: bool = False

    def overrunning(self, operation: str) -> Claim:
        """This claim, met past the limit by ``operation`` holding the overrun slot (or taking it while the
        project is not over already)."""
        return dataclasses.replace(self, overrun_by=operation)

    def finishing(self) -> Claim:
        """This claim, as the last write of a request that may end past the limit (``may_cross``)."""
        return dataclasses.replace(self, may_cross=True)

    def highest_before_overrun(self) -> int:
        """The highest counter at which a write may still take the overrun slot: usage not over the limit."""
        unit = MIB if self.resource in IN_BYTES else 1
        return (self.limit + 1) * unit - 1

    def highest_counter(self, own_change: int) -> int:
        """The highest counter (bytes for sizes) the project may hold before the write for it to pass;
        negative: no counter can (the claim fails whatever the usage)."""
        unit = MIB if self.resource in IN_BYTES else 1
        ahead = own_change if self.after_write else 0
        # in_limit_units(counter + ahead) + delta <= limit  <=>  counter + ahead < (limit - delta + 1) * unit
        return (self.limit - self.delta + 1) * unit - ahead - 1

    def usage(self, counter: int, own_change: int) -> int:
        """The usage Glance's message names: in the limit's units, with the write's own change if after it."""
        return in_limit_units(self.resource, counter + (own_change if self.after_write else 0))

    def allows(self, counter: int, own_change: int, overrun_holder: str | None = None) -> bool:
        if self.rising_only and own_change <= 0:
            return True
        if self.overrun_by is not None:
            if overrun_holder is not None:
                return overrun_holder == self.overrun_by
            return counter <= self.highest_before_overrun()
        within = counter <= self.highest_counter(own_change)
        if self.may_cross:
            return within or (overrun_holder is None and counter <= self.highest_before_overrun())
        return within


def overrun_slot(resource: str) -> str:
    """The usage row's attribute naming the one operation that may run past ``resource``'s limit."""
    return f"overrun_{resource}"


class OverLimit(Exception):
    """A write's claims the project's counters cannot meet: ``refused`` the claims, ``counters`` as read."""

    def __init__(self, project: str, refused: list[Claim], counters: dict[str, int], own_change: dict[str, int]):
        self.project, self.refused, self.counters, self.own_change = project, refused, counters, own_change
        super().__init__(f"project {project} over {', '.join(c.resource for c in refused)}")

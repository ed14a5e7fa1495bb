"""The sweeper's repair of quota counters: each project's recomputed from its images (Glance's rules of
usage, models/quota.py) and put right where they drifted.

Counters move only in the transactions of the writes they count, so drift means something outside the
service changed the table (a restore, a hand edit, records written before counters existed). A project
whose counters moved within ``settle`` is left for the next sweep: a write may be in flight, and the
by-owner index the images are read through may not show it yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from image_import.models.quota import RESOURCES, contribution
from image_import.models.time import parse_time

if TYPE_CHECKING:
    from image_import.adapters.ports import ImageIndex, UsageRecords


@dataclass(frozen=True)
class Drift:
    project: str
    counted: dict[str, int]  # what the counters held
    actual: dict[str, int]  # what the images add up to
    repaired: bool  # False: a write moved the counters meanwhile (the next sweep looks again)

    def as_dict(self) -> dict:
        return {"project": self.project, "counted": self.counted, "actual": self.actual, "repaired": self.repaired}


def _whole(counters: dict[str, int]) -> dict[str, int]:
    return {name: counters.get(name, 0) for name in RESOURCES}


def repair_counters(usage: UsageRecords, index: ImageIndex, now: datetime, settle: timedelta) -> list[Drift]:
    drifts = []
    for project in usage.counted_projects():
        counters, changed_at, writes = usage.usage_row(project)
        if changed_at is not None and now - parse_time(changed_at) < settle:
            continue
        actual: dict[str, int] = {}
        for image in index.owned_by(project):
            for name, value in contribution(image).items():
                actual[name] = actual.get(name, 0) + value
        if _whole(actual) != _whole(counters):
            repaired = usage.set_usage(project, writes, actual)
            drifts.append(Drift(project, _whole(counters), _whole(actual), repaired))
    return drifts

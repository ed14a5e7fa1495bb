"""What an import adds to its project's usage, claimed as it adds it.

Glance checks a limit when an operation starts, with the delta it knows then (0 for data of unknown
size), and never again: five downloads of unknown size, a small gzip that decompresses to gigabytes,
or one import written to three stores all end far over the limit. Here every write an import step makes
to its image (steps/actions.py) that raises a byte counter (a download's parts, a plugin's
replacement, the copy into each store) claims it in the same conditional write as the counters.

Glance's rule stays: an operation admitted under a limit may finish over it (tempest's ImageQuotaTest).
Concurrency must not multiply that, so going past a limit takes the project's one overrun slot of it
(an attribute of the usage row, set by the same conditional write), and only while the project is not
over already: at most one operation per project and limit runs past it at a time; any other write that
would go over fails its import with Glance's over-limit message. The slot is released when the import
ends (completed or reverted); one left by an import that died is freed by the next that needs it, once
its task is over.
"""

from __future__ import annotations

import dataclasses
import logging

from image_import.adapters.ports import Ports
from image_import.models.quota import IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, Claim, OverLimit
from image_import.quotas import admission
from image_import.settings import Settings

log = logging.getLogger(__name__)
BYTE_LIMITS = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL)
_OVER = ("success", "failure")


def claims(settings: Settings, owner: str | None, known: admission.Known = None) -> list[Claim]:
    """The claims of a write that may add bytes: each byte limit the owner has, checked with the write's
    own change, and only when the write raises that counter."""
    wanted = [(resource, 0, True) for resource in BYTE_LIMITS]
    return [dataclasses.replace(c, rising_only=True) for c in admission.claims(settings, owner, *wanted, known=known)]


def finishing(settings: Settings, owner: str | None, known: admission.Known = None) -> list[Claim]:
    """The claims of a request's last write, the one that records the bytes it stored (PUT /stage, PUT
    /file of a size not declared, admitted with a delta of 0): Glance's rule lets it end past the limit,
    but only while no operation holds the overrun slot and the project is not over already, so concurrent
    uploads cannot each go over."""
    return [claim.finishing() for claim in claims(settings, owner, known)]


def free_stale_slots(ports: Ports, over: OverLimit, operation: str) -> bool:
    """Free the slots the refused claims found held by an operation whose task is over (it died before it
    released them); True if one was freed (the write may be tried again)."""
    holders = ports.usage.overrun_holders(over.project)
    freed = False
    for claim in over.refused:
        holder = holders.get(claim.resource)
        if holder is None or holder == operation:
            continue
        try:
            task = ports.tasks.get(holder)
        except Exception:  # a plugin's role session reads no other task: it cannot tell, so it frees nothing
            log.warning("could not read task %s holding the %s overrun slot", holder, claim.resource, exc_info=True)
            continue
        if task is None or task.status in _OVER:
            freed |= ports.usage.release_overrun(over.project, claim.resource, holder)
            log.warning("freed the %s overrun slot of project %s left by %s", claim.resource, over.project, holder)
    return freed


def release(settings: Settings, ports: Ports, owner: str | None, operation: str) -> None:
    """The import ``operation`` is over: the slots it holds are free for another."""
    if owner is None or not settings.quotas_enabled:
        return
    for resource, holder in ports.usage.overrun_holders(owner).items():
        if holder == operation:
            ports.usage.release_overrun(owner, resource, operation)

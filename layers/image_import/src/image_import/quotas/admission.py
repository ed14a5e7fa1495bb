"""The limits each operation claims, where Glance enforces them (glance/api/v2/images.py, image_data.py,
async_/flows/api_image_import.py), and Glance's 413 when one is refused.

Glance checks a limit by reading usage, then writes: two requests can both pass. Here a claim rides on
the write it guards (adapters/records/usage.py makes it the condition of the project's counters in the same
transaction), so exactly as many requests as the limit allows get through. Where Glance checks before it
even looks the image up, a ``precheck`` reads the counters there too, so errors come in Glance's order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from image_import.errors import RequestEntityTooLarge
from image_import.models.quota import (
    IMAGE_COUNT_TOTAL,
    IMAGE_COUNT_UPLOADING,
    IMAGE_SIZE_TOTAL,
    IMAGE_STAGE_TOTAL,
    MIB,
    Claim,
    OverLimit,
    in_limit_units,
)
from image_import.quotas.limits import limits_of
from image_import.settings import Settings

if TYPE_CHECKING:
    from image_import.adapters.ports import UsageRecords

# Glance's LimitExceeded (glance/common/exception.py) around oslo.limit's ProjectOverLimit
_EXCEEDED = (
    "The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota "
    "threshold was breached.\n\nThe response body:\n{body}"
)


# A project's limits as one request read them (a precheck's, reused by its write's claims): Keystone's are
# two HTTP reads, made once a request
Known = tuple[str, dict[str, int]] | None


def claims(settings: Settings, project: str | None, *wanted: tuple[str, int, bool], known: Known = None) -> list[Claim]:
    """Claims of (resource, delta, after_write) on ``project``'s limits; none without quotas, without a
    project, or where the limit is unlimited (-1). ``known``: the limits this request read already."""
    if project is None or not settings.quotas_enabled:
        return []
    limits = known[1] if known is not None and known[0] == project else (limits_of(project, settings) or {})
    return [
        Claim(resource, limits[resource], delta, after)
        for resource, delta, after in wanted
        if limits.get(resource, 0) >= 0
    ]


def read_once(settings: Settings, project: str | None, known: Known) -> Known:
    """The project's limits as this request knows them, read now if it does not yet (None: no quotas)."""
    if project is None or not settings.quotas_enabled:
        return None
    if known is not None and known[0] == project:
        return known
    return project, limits_of(project, settings) or {}


def in_mib(size: int | None) -> int:
    return (size or 0) // MIB


# ---- each operation's claims, as Glance makes them
def for_create(settings: Settings, owner: str | None, known: Known = None) -> list[Claim]:
    """POST /v2/images: one more image."""
    return claims(settings, owner, (IMAGE_COUNT_TOTAL, 1, False), known=known)


def for_stage(settings: Settings, owner: str | None, declared_size: int | None, known: Known = None) -> list[Claim]:
    """PUT /stage, queued -> uploading: the staging it announces, and one more upload."""
    wanted = (IMAGE_STAGE_TOTAL, in_mib(declared_size), False), (IMAGE_COUNT_UPLOADING, 0, True)
    return claims(settings, owner, *wanted, known=known)


def for_upload(settings: Settings, owner: str | None, declared_size: int | None, known: Known = None) -> list[Claim]:
    """PUT /file, queued -> saving: the store space it announces, and one more upload."""
    wanted = (IMAGE_SIZE_TOTAL, in_mib(declared_size), False), (IMAGE_COUNT_UPLOADING, 0, True)
    return claims(settings, owner, *wanted, known=known)


def for_import(
    settings: Settings, owner: str | None, method: str, size: int | None, known: Known = None, stores: int = 1
) -> list[Claim]:
    """The import taking its lock: glance-direct claims store space for what is staged, once per store it
    writes (``stores``: data in stores counts once per store); the methods that stage first (web-download,
    copy-image) claim staging and one more upload, counted after the lock."""
    if method == "glance-direct":
        return claims(settings, owner, (IMAGE_SIZE_TOTAL, in_mib(size) * stores, False), known=known)
    wanted = (IMAGE_STAGE_TOTAL, in_mib(size), True), (IMAGE_COUNT_UPLOADING, 0, True)
    return claims(settings, owner, *wanted, known=known)


def precheck(settings: Settings, usage: UsageRecords, project: str | None, *wanted: tuple[str, int]) -> Known:
    """Glance's checks before the request touches the image (create, stage, upload, import): refused when
    the project's usage plus each (resource, delta) is over its limit already. The write's own claim keeps
    it exact; the limits read are returned for it (``known``)."""
    if project is None or not settings.quotas_enabled:
        return None
    known = (project, limits_of(project, settings) or {})
    checked = claims(settings, project, *((resource, delta, False) for resource, delta in wanted), known=known)
    counters = usage.usage(project) if checked else {}
    refused = [c for c in checked if not c.allows(counters.get(c.resource, 0), 0)]
    if refused:
        raise too_large(OverLimit(project, refused, counters, {}))
    return known


def message(over: OverLimit) -> str:
    """Glance's words: oslo.limit's ProjectOverLimit of OverLimitInfo, inside LimitExceeded."""
    infos = ", ".join(
        f"Resource {c.resource} is over limit of {c.limit} due to current usage "
        f"{c.usage(over.counters.get(c.resource, 0), over.own_change.get(c.resource, 0))} and delta {c.delta}"
        for c in over.refused
    )
    return _EXCEEDED.format(body=f"Project {over.project} is over a limit for [{infos}]")


def too_large(over: OverLimit) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(message(over))


def usage_report(settings: Settings, usage: UsageRecords, project: str | None) -> dict[str, dict[str, int]]:
    """GET /v2/info/usage: each limit and the project's usage of it (MiB for the sizes, as Glance); {} on a
    site without quotas (or a caller without a project)."""
    limits = limits_of(project, settings) if project is not None else None
    if limits is None or project is None:
        return {}
    counters = usage.usage(project)
    return {
        name: {"usage": in_limit_units(name, counters.get(name, 0)), "limit": limit} for name, limit in limits.items()
    }

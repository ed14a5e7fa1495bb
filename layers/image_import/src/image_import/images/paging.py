"""Glance's marker/limit paging, as GET /v2/images and GET /v2/tasks both do it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from image_import.errors import BadRequest
from image_import.settings import Settings


class _Identified(Protocol):
    id: str


R = TypeVar("R", bound=_Identified)


def single(query: dict[str, list[str]], key: str) -> str | None:
    """The last value given for ``key`` (a repeated parameter counts once, as the last), None if absent."""
    values = query.get(key)
    return values[-1] if values else None


def limit(query: dict[str, list[str]], settings: Settings) -> int:
    """The ``limit`` parameter: the configured default if absent, never above api_limit_max."""
    raw = single(query, "limit")
    if raw is None:
        return settings.limit_param_default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if value < 0:
        raise BadRequest("limit param must be positive")
    return min(value, settings.api_limit_max)


def page_after(records: Sequence[R], marker: str | None, limit: int, kind: str) -> tuple[list[R], str | None]:
    """The ``limit`` records after the one whose id is ``marker`` (from the start without one), and the
    next page's marker: the last id of a full page (a client stops at a page without one)."""
    if marker is not None:
        position = next((n for n, record in enumerate(records) if record.id == marker), None)
        if position is None:
            raise BadRequest(f"Invalid marker. {kind} {marker} could not be found.")
        records = records[position + 1 :]
    page = list(records[:limit])
    return page, page[-1].id if page and len(page) == limit else None

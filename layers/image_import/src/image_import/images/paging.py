"""Glance's marker/limit paging, as GET /v2/images and GET /v2/tasks both do it (a page also ends before
the bytes it may take: ``take``), and the filter expressions of its list queries
(``gt:2024-01-01T00:00:00Z``, ``in:a,"b,c"``), parsed as glance.common.utils does."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

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


# Glance's words for a marker that names no record it lists (400)
MARKER_NOT_FOUND = {"Image": "No image found with ID {}", "Task": "Task with the given id {} was not found"}


def page_after(
    records: Sequence[R],
    marker: str | None,
    limit: int,
    kind: str,
    size_of: Callable[[R], int] | None = None,
    budget: int = 0,
) -> tuple[list[R], str | None]:
    """The page after the record whose id is ``marker`` (from the start without one), as ``take`` cuts it."""
    if marker is not None:
        position = next((n for n, record in enumerate(records) if record.id == marker), None)
        if position is None:
            raise BadRequest(MARKER_NOT_FOUND[kind].format(marker))
        records = records[position + 1 :]
    return take(records, limit, size_of, budget)


def take(
    records: Iterable[R], limit: int, size_of: Callable[[R], int] | None = None, budget: int = 0
) -> tuple[list[R], str | None]:
    """The first ``limit`` records, read lazily, and the next page's marker.

    With ``size_of`` the page also ends before the record that would take its records' bytes (as
    ``size_of`` counts each) past ``budget``; a page holds one record at least, whatever its size. The
    marker is the last id of a page that ended at its limit (Glance's rule: a client stops at a page
    without one) or at its budget (more follow: the record that did not fit is the next page's first).
    """
    page: list[R] = []
    used = 0
    remaining = iter(records)
    while len(page) < limit:  # checked first: a full page reads no record beyond its last
        record = next(remaining, None)
        if record is None:
            return page, None
        if size_of is not None:
            used += size_of(record)
            if page and used > budget:
                return page, page[-1].id
        page.append(record)
    return page, page[-1].id if page else None


# ---------------------------------------------------------------- filter expressions
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def split_filter_op(expression: str) -> tuple[str, str]:
    """(operator, operand) of a filter value; ``eq`` without an operator, and for a bare ISO 8601 time
    (whose colons are not an operator's)."""
    left, sep, right = expression.partition(":")
    if not sep:
        return "eq", left
    if parse_isotime(expression) is not None:
        return "eq", expression
    return left, right


def parse_isotime(value: str):
    """The UTC time (naive, as Glance's database compares it) of an ISO 8601 value, None if it is not one."""
    from oslo_utils import timeutils  # Glance's own parser (iso8601): "2024", "2024-01-01T10:00+02:00"...

    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except ValueError:
        return None


_QUOTED_OR_PLAIN = re.compile(r'"([^\"\\]*(?:\\.[^\"\\]*)*)",?|([^,]+),?|,')


def split_in_list(value: str) -> list[str]:
    """The values of an ``in:`` list: comma-separated, a value with commas in double quotes (api-wg)."""
    opened = False
    for n, char in enumerate(value):
        if char != '"' or (n and value[n - 1] == "\\"):
            continue
        if not opened and n and value[n - 1] != ",":
            raise BadRequest(f"Invalid filter value {value}. There is no comma before opening quotation mark.")
        if opened and n + 1 != len(value) and value[n + 1] != ",":
            raise BadRequest(f"Invalid filter value {value}. There is no comma after closing quotation mark.")
        opened = not opened
    if opened:
        raise BadRequest(f"Invalid filter value {value}. The quote is not closed.")
    return [quoted or plain for quoted, plain in _QUOTED_OR_PLAIN.findall(value)]

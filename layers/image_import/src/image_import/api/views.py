"""Glance's JSON shapes: an image as the caller may see it, a response, a page of a collection (and
the bytes a page may take: ``PAGE_BYTES``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from image_import.api.requests import JSON, request_id
from image_import.settings import get_settings


def present(image, context) -> dict:
    """The image as this caller may see it (unreadable protected properties left out)."""
    from image_import.images.catalog import BASE_FIELDS
    from image_import.policy.protections import shown

    settings = get_settings()
    body = shown(image.to_api(), BASE_FIELDS | {"self", "file", "schema"}, context, settings)
    if settings.show_multiple_locations or settings.show_image_direct_url:
        from image_import.api.routes import ports
        from image_import.stores.locations import add_locations

        add_locations(body, image, context, settings, ports())
    return body


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"x-openstack-request-id": request_id(), **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=all_headers, body="")
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=all_headers)


# Lambda answers a synchronous invoke with at most 6,291,556 bytes (LAMBDA_RESPONSE_LIMIT: its limit, as
# its Function.ResponseSizeTooLarge error names it), counted as the handler's result serialized: the proxy
# response's JSON, whose "body" is the page's JSON once more as a JSON string, every " and \ of it
# escaped again (encoded_size counts that). Beyond the limit the invoke fails and API Gateway answers 502
# "Internal server error" to everyone who lists. So a list page ends before its body, so counted, would
# pass PAGE_BYTES: 5 MiB, leaving 1 MiB for the status, headers and envelope. One record always fits: an
# image record is at most 400 KB (DynamoDB's item limit), at most 7 bytes per byte of it when encoded
# (a control character: \u0001, escaped again), 2.8 MB.
LAMBDA_RESPONSE_LIMIT = 6_291_556
PAGE_BYTES = 5 * 1024 * 1024
MARKER_ROOM = 255  # a page's budget leaves room for a next link with a marker this long (ids are 36)


def encoded_size(document: Any) -> int:
    """The bytes ``document`` takes in the Lambda response: its JSON as ``respond`` writes it (ASCII), inside
    the proxy response's "body" string, where each ``"`` and ``\\`` is escaped once more."""
    text = json.dumps(document)
    return len(text) + text.count('"') + text.count("\\")


def item_size(document: Any) -> int:
    """What one more item takes in a page's list: the item and its separator (``", "``)."""
    return encoded_size(document) + 2


def page_budget(collection: str, params: dict[str, list[str]], path: str | None = None) -> int:
    """The bytes a page's items may take of PAGE_BYTES: the rest is its links and schema (with a next link)."""
    envelope = page(collection, [], params, "m" * MARKER_ROOM, path=path)
    return PAGE_BYTES - encoded_size(envelope)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


class Measured:
    """Each record's view, made once: called with a record (as paging's ``size_of``) it makes the view and
    answers its ``item_size``; ``views`` gives the page's views, made again only for a record never measured."""

    def __init__(self, view: Callable[[Any], dict[str, Any]]):
        self.view = view
        self.made: dict[str, dict[str, Any]] = {}

    def __call__(self, record: _Identified) -> int:
        self.made[record.id] = shown = self.view(record)
        return item_size(shown)

    def views(self, records: Iterable[_Identified]) -> list[dict[str, Any]]:
        return [self.made[r.id] if r.id in self.made else self.view(r) for r in records]


def page(
    collection: str,
    items: list,
    params: dict[str, list[str]],
    next_marker: str | None,
    *,
    path: str | None = None,
) -> dict[str, Any]:
    """One page of ``/v2/<collection>`` as Glance lists it: the items, ``first`` (this query without its
    marker), the schema, and ``next`` (the same query from ``next_marker``) when there is more. ``path``:
    the collection's when not ``/v2/<collection>`` (its schema: ``/v2/schemas/`` and the rest of it)."""
    path = path or f"/v2/{collection}"
    pairs = [(k, v) for k, values in params.items() if k != "marker" for v in values]
    body: dict[str, Any] = {
        collection: items,
        "first": path + (f"?{urlencode(pairs)}" if pairs else ""),
        "schema": f"/v2/schemas/{path.removeprefix('/v2/')}",
    }
    if next_marker:
        body["next"] = f"{path}?" + urlencode([*pairs, ("marker", next_marker)])
    return body

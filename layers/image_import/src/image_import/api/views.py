"""Glance's JSON shapes: an image as the caller may see it, a response, a page of a collection."""

from __future__ import annotations

import json
from typing import Any
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


def page(collection: str, items: list, params: dict[str, list[str]], next_marker: str | None) -> dict[str, Any]:
    """One page of ``/v2/<collection>`` as Glance lists it: the items, ``first`` (this query without its
    marker), the schema, and ``next`` (the same query from ``next_marker``) when there is more."""
    path = f"/v2/{collection}"
    pairs = [(k, v) for k, values in params.items() if k != "marker" for v in values]
    body: dict[str, Any] = {
        collection: items,
        "first": path + (f"?{urlencode(pairs)}" if pairs else ""),
        "schema": f"/v2/schemas/{collection}",
    }
    if next_marker:
        body["next"] = f"{path}?" + urlencode([*pairs, ("marker", next_marker)])
    return body

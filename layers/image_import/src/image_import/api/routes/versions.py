"""Version discovery: GET / (300 Multiple Choices) and GET /versions (200)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import JSON, base_url
from image_import.settings import get_settings

router = APIGatewayRouter()

# Single-store Glance 33 without an image cache, in its order: v2.15, v2.9, then the current version
# and v2.7 down. v2.8 and v2.10-v2.13 (multiple stores) and v2.14/2.16/2.18 (image cache) are not served.
# (tempest's glance-direct import test checks GET /v2/images/{id}/tasks only when it sees v2.12.)
SUPPORTED_BEFORE_CURRENT = ["v2.15", "v2.9"]
CURRENT = "v2.17"
SUPPORTED = ["v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]


# Multi-store Glance 33 (enabled_backends set) lists the store versions too, in this order.
MULTI_STORE_BEFORE_CURRENT = ["v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8"]

# Import arrived in v2.6: with enable_image_import = false the API is the one before it.
WITHOUT_IMPORT = ["v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]


def versions_document(base_url: str, import_enabled: bool = True, multi_store: bool = False) -> dict:
    href = f"{base_url.rstrip('/')}/v2/"
    before = MULTI_STORE_BEFORE_CURRENT if multi_store else SUPPORTED_BEFORE_CURRENT
    listed = [*before, CURRENT, *SUPPORTED] if import_enabled else WITHOUT_IMPORT
    current = CURRENT if import_enabled else WITHOUT_IMPORT[0]
    entries = [{"id": v, "status": "CURRENT" if v == current else "SUPPORTED"} for v in listed]
    return {"versions": [{**e, "links": [{"rel": "self", "href": href}]} for e in entries]}


def _versions(status: int) -> Response:
    # Glance's version negotiation answers before its request-id middleware: no x-openstack-request-id
    settings = get_settings()
    body = versions_document(base_url(), settings.enable_image_import, settings.multi_store)
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


@router.get("/")
def root() -> Response:
    return _versions(300)


@router.get("/versions")
def versions() -> Response:
    return _versions(200)

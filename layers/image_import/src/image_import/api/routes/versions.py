"""Version discovery: GET / (300 Multiple Choices) and GET /versions (200)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import base_url
from image_import.api.views import respond
from image_import.settings import get_settings

router = APIGatewayRouter()

# v2.12 is listed although there is one store, because python-glanceclient and tempest only use
# GET /v2/images/{id}/tasks when they see it. 2.14/2.16/2.18 are image-cache versions: not served.
SUPPORTED = [
    "v2.15",
    "v2.12",
    "v2.11",
    "v2.10",
    "v2.9",
    "v2.8",
    "v2.7",
    "v2.6",
    "v2.5",
    "v2.4",
    "v2.3",
    "v2.2",
    "v2.1",
    "v2.0",
]
CURRENT = "v2.17"


# Import arrived in v2.6: with enable_image_import = false the API is the one before it.
WITHOUT_IMPORT = ["v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]


def versions_document(base_url: str, import_enabled: bool = True) -> dict:
    href = f"{base_url.rstrip('/')}/v2/"
    listed = [CURRENT, *SUPPORTED] if import_enabled else WITHOUT_IMPORT
    entries = [{"id": v, "status": "CURRENT" if n == 0 else "SUPPORTED"} for n, v in enumerate(listed)]
    return {"versions": [{**e, "links": [{"rel": "self", "href": href}]} for e in entries]}


@router.get("/")
def root() -> Response:
    return respond(300, versions_document(base_url(), get_settings().enable_image_import))


@router.get("/versions")
def versions() -> Response:
    return respond(200, versions_document(base_url(), get_settings().enable_image_import))

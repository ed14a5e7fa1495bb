"""Image tags: PUT and DELETE /v2/images/{image_id}/tags/{tag}."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import caller, no_body
from image_import.api.routes import IMAGE_ID, ports
from image_import.api.views import respond
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.put(f"/v2/images/{IMAGE_ID}/tags/<tag>")
def add_tag(image_id: str, tag: str) -> Response:
    from image_import.images.tags import add_tag as add

    no_body()
    add(caller(), image_id, unquote(tag), get_settings(), ports())
    return respond(204)


@router.delete(f"/v2/images/{IMAGE_ID}/tags/<tag>")
def delete_tag(image_id: str, tag: str) -> Response:
    from image_import.images.tags import delete_tag as delete

    no_body()
    delete(caller(), image_id, unquote(tag), get_settings(), ports())
    return respond(204)

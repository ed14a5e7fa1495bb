"""Images: create, list, show, update (PATCH), delete, and the deactivate/reactivate actions."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import base_url, caller, json_body, media_type, no_body, query
from image_import.api.routes import IMAGE_ID, ports
from image_import.api.views import Measured, page, page_budget, present, respond
from image_import.errors import NotFound
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.post("/v2/images")
def create_image() -> Response:
    from image_import.images.catalog import create_image as create

    settings = get_settings()
    context = caller()
    image = create(context, json_body(), settings, ports())
    headers = {"Location": f"{base_url()}/v2/images/{image.id}"}
    if settings.enabled_import_methods and settings.enable_image_import:
        headers["OpenStack-image-import-methods"] = ",".join(settings.enabled_import_methods)
    return respond(201, present(image, context), headers)


@router.get("/v2/images")
def list_images() -> Response:
    from image_import.images.catalog import list_images as list_

    params = query()
    context = caller()
    views = Measured(lambda image: present(image, context))  # a page ends before PAGE_BYTES (api/views.py)
    found = list_(context, params, get_settings(), ports(), size_of=views, budget=page_budget("images", params))
    return respond(200, page("images", views.views(found.images), params, found.next_marker))


@router.get(f"/v2/images/{IMAGE_ID}")
def show_image(image_id: str) -> Response:
    from image_import.images.catalog import get_image

    context = caller()
    return respond(200, present(get_image(context, image_id, ports()), context))


@router.patch(f"/v2/images/{IMAGE_ID}")
def update_image(image_id: str) -> Response:
    from image_import.images.update import update_image as update

    context = caller()
    given = media_type()
    body = json_body() if given.endswith("json-patch") else None
    image = update(context, image_id, given, body, get_settings(), ports())
    return respond(200, present(image, context))


@router.delete(f"/v2/images/{IMAGE_ID}")
def delete_image(image_id: str) -> Response:
    from image_import.images.catalog import delete_image as delete

    delete(caller(), image_id, ports())
    return respond(204)


@router.post(f"/v2/images/{IMAGE_ID}/actions/<action>")
def image_action(image_id: str, action: str) -> Response:
    from image_import.images.activation import TRANSITIONS, change_activation

    if action not in TRANSITIONS:
        raise NotFound("The resource could not be found.")
    no_body()
    change_activation(caller(), image_id, action, get_settings(), ports())
    return respond(204)

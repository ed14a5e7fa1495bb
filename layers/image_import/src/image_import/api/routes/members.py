"""Image sharing: /v2/images/{image_id}/members[/{member_id}]."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import caller, json_body, no_body
from image_import.api.routes import IMAGE_ID, MEMBER_ID, ports
from image_import.api.views import respond
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.get(f"/v2/images/{IMAGE_ID}/members")
def list_members(image_id: str) -> Response:
    from image_import.images.members import list_members as list_

    context = caller()
    no_body()
    members = list_(context, image_id, get_settings(), ports())
    return respond(200, {"members": members, "schema": "/v2/schemas/members"})


@router.post(f"/v2/images/{IMAGE_ID}/members")
def add_member(image_id: str) -> Response:
    from image_import.images.members import add_member as add

    context = caller()
    return respond(200, add(context, image_id, json_body(required=False), get_settings(), ports()))


@router.get(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def show_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import get_member

    context = caller()
    no_body()
    return respond(200, get_member(context, image_id, unquote(member_id), get_settings(), ports()))


@router.put(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def update_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import update_member as update

    context = caller()
    body = json_body(required=False)
    return respond(200, update(context, image_id, unquote(member_id), body, get_settings(), ports()))


@router.delete(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def delete_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import delete_member as delete

    context = caller()
    no_body()
    delete(context, image_id, unquote(member_id), get_settings(), ports())
    return respond(204)

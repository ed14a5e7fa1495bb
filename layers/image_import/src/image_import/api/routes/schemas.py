"""The JSON schemas clients validate against: GET /v2/schemas/{image,images,task,tasks,member,members}."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.views import respond
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.get("/v2/schemas/image")
def schema_image() -> Response:
    from image_import.images.schemas import image_schema

    settings = get_settings()
    return respond(200, image_schema(settings.disk_formats, settings.container_formats))


@router.get("/v2/schemas/images")
def schema_images() -> Response:
    from image_import.images.schemas import image_schema, images_schema

    settings = get_settings()
    return respond(200, images_schema(image_schema(settings.disk_formats, settings.container_formats)))


@router.get("/v2/schemas/task")
def schema_task() -> Response:
    from image_import.images.schemas import task_schema

    return respond(200, task_schema())


@router.get("/v2/schemas/tasks")
def schema_tasks() -> Response:
    from image_import.images.schemas import task_schema, tasks_schema

    return respond(200, tasks_schema(task_schema()))


@router.get("/v2/schemas/member")
def schema_member() -> Response:
    from image_import.images.schemas import member_schema

    return respond(200, member_schema())


@router.get("/v2/schemas/members")
def schema_members() -> Response:
    from image_import.images.schemas import member_schema, members_schema

    return respond(200, members_schema(member_schema()))

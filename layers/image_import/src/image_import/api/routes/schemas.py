"""The JSON schemas clients validate against: GET /v2/schemas/{image,images,task,tasks,member,members}
and /v2/schemas/metadefs/{namespace,object,property,tag,resource_type}[s]."""

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


@router.get("/v2/schemas/metadefs/<name>")
def schema_metadefs(name: str) -> Response:
    """Glance's metadata-definition schemas: namespace(s), object(s), property/properties, tag(s),
    resource_type(s)."""
    from image_import.errors import NotFound
    from image_import.metadefs.schemas import SCHEMAS

    if name not in SCHEMAS:
        raise NotFound("The resource could not be found.")
    return respond(200, SCHEMAS[name])

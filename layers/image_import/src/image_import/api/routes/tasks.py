"""Tasks: POST and GET /v2/tasks, GET /v2/tasks/{task_id}; DELETE is refused as Glance refuses it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import base_url, caller, json_body, query
from image_import.api.routes import ports
from image_import.api.views import Measured, page, page_budget, respond
from image_import.errors import MethodNotAllowed
from image_import.observability import logger
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.post("/v2/tasks")
def create_task() -> Response:
    from image_import.tasks.catalog import create_task as create
    from image_import.tasks.catalog import require_api_access, task_detail

    context, settings = caller(), get_settings()
    require_api_access(context, settings)  # before the body is read, as Glance
    task = create(context, json_body(), settings, ports())
    logger.info("task created", extra={"task_id": task.id, "task_type": task.type})
    return respond(201, task_detail(task), headers={"Location": f"{base_url()}/v2/tasks/{task.id}"})


@router.get("/v2/tasks")
def list_tasks() -> Response:
    from image_import.tasks.catalog import list_tasks as list_
    from image_import.tasks.catalog import task_stub

    params = query()
    views = Measured(task_stub)  # a page ends before PAGE_BYTES (api/views.py), even with a large api_limit_max
    found = list_(caller(), params, get_settings(), ports(), size_of=views, budget=page_budget("tasks", params))
    return respond(200, page("tasks", views.views(found.tasks), params, found.next_marker))


@router.get("/v2/tasks/<task_id>")
def show_task(task_id: str) -> Response:
    from image_import.tasks.catalog import get_task, task_detail

    return respond(200, task_detail(get_task(caller(), task_id, get_settings(), ports())))


@router.delete("/v2/tasks/<task_id>")
def delete_task(task_id: str) -> Response:
    caller()
    raise MethodNotAllowed(
        "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time"
        " based on their expires_at property.",
        headers={"Allow": "GET"},
    )

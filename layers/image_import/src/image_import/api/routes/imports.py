"""Interoperable image import: POST /v2/images/{image_id}/import, discovery (/v2/info/import, /v2/info/stores,
/v2/info/usage) and the image's import tasks (GET /v2/images/{image_id}/tasks)."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import caller, header, json_body
from image_import.api.routes import IMAGE_ID, ports, require_import_enabled
from image_import.api.views import respond
from image_import.observability import logger
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.get("/v2/info/import")
def info_import() -> Response:
    caller()
    require_import_enabled()
    methods = list(get_settings().enabled_import_methods)
    return respond(
        200, {"import-methods": {"description": "Import methods available.", "type": "array", "value": methods}}
    )


@router.get("/v2/info/stores")
def info_stores() -> Response:
    from image_import.stores.info import stores_document

    caller()
    return respond(200, stores_document(get_settings()))


@router.get("/v2/info/stores/detail")
def info_stores_detail() -> Response:
    from image_import.policy.access import require_allowed
    from image_import.stores.info import stores_document

    context = caller()
    settings = get_settings()
    stores_document(settings)  # 404 first on a single-store site, as Glance
    require_allowed(context, "stores_info_detail", settings)
    return respond(200, stores_document(settings, detail=True))


@router.get("/v2/info/usage")
def info_usage() -> Response:
    """The caller's project's limits and usage of them; an empty map on a site without quotas (Glance
    without ``use_keystone_limits``). Any authenticated caller may read it (Glance checks no policy); a
    body is not refused."""
    from image_import.quotas.admission import usage_report

    context = caller()
    return respond(200, {"usage": usage_report(get_settings(), ports().usage, context.project_id)})


@router.post(f"/v2/images/{IMAGE_ID}/import")
def import_image(image_id: str) -> Response:
    from image_import.workflow.start import start_import

    context = caller()
    require_import_enabled()
    task = start_import(
        context, image_id, json_body(), get_settings(), ports(), store_header=header("x-image-meta-store")
    )
    if task is not None:  # None: a copy-image into stores the image is already in, nothing to do
        logger.info("import started", extra={"image_id": image_id, "task_id": task.id})
    return respond(202)


@router.get(f"/v2/images/{IMAGE_ID}/tasks")
def image_tasks(image_id: str) -> Response:
    from image_import.images.catalog import get_image

    context = caller()
    get_image(context, image_id, ports())
    now = datetime.now(UTC)
    tasks = [
        t
        for t in ports().tasks.for_image(image_id)
        if not t.expired(now) and (context.is_admin or (context.has_project and t.owner == context.project_id))
    ]
    return respond(200, {"tasks": [t.as_image_task() for t in tasks]})

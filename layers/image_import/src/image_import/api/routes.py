"""Routes of the Images API v2: parse the request, make one domain call, shape Glance's response."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from image_import.api.errors import render_error
from image_import.api.versions import versions_document
from image_import.errors import BadRequest, GlanceError, MethodNotAllowed, NotFound, Unauthorized, UnsupportedMediaType
from image_import.observability import logger
from image_import.settings import get_settings

if TYPE_CHECKING:  # pydantic models cost ~100 ms to import: only routes that need them pay
    from image_import.models import RequestContext

app = APIGatewayRestResolver()

JSON = "application/json"
IMAGE_ID = "<image_id>"


# ---------------------------------------------------------------- request helpers
def _header(name: str) -> str | None:
    return app.current_event.get_header_value(name, default_value=None, case_sensitive=False)


def request_id() -> str:
    """Glance's request id: the client's X-Openstack-Request-Id if sane, else one of ours."""
    given = _header("x-openstack-request-id")
    if given and len(given) <= 64:
        return given if given.startswith("req-") else f"req-{given}"
    return f"req-{app.current_event.request_context.request_id or uuid.uuid4()}"


def caller() -> RequestContext:
    """Identity set by the API Gateway authorizer (never taken from client headers)."""
    from image_import.models import RequestContext

    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    if not authorizer.get("project_id") and not authorizer.get("user_id"):
        raise Unauthorized("This server could not verify that you are authorized to access the document you requested.")
    return RequestContext(
        user_id=authorizer.get("user_id"),
        project_id=authorizer.get("project_id"),
        roles=authorizer.get("roles", ""),
        service_roles=authorizer.get("service_roles", ""),
        service_user_id=authorizer.get("service_user_id") or None,
        request_id=request_id(),
    )


def base_url() -> str:
    settings = get_settings()
    if settings.public_endpoint:
        return settings.public_endpoint
    host = _header("host") or "localhost"
    scheme = _header("x-forwarded-proto") or "http"
    stage = app.current_event.request_context.stage
    # the execute-api host serves the API under /<stage>; a custom domain or the local stack does not
    prefix = f"/{stage}" if ".execute-api." in host and stage else ""
    return f"{scheme}://{host}{prefix}"


def raw_body() -> bytes:
    body = app.current_event.body
    if body is None:
        return b""
    if app.current_event.is_base64_encoded:
        return base64.b64decode(body)
    return body.encode("utf-8")


def json_body(required: bool = True, media_types: tuple[str, ...] | None = (JSON,)) -> Any:
    """The JSON request body; ``media_types=None`` when the caller has checked the content type."""
    content_type = (_header("content-type") or "").split(";")[0].strip().lower()
    data = raw_body()
    if not data:
        if required:
            raise BadRequest("Body expected in request.")
        return None
    if media_types is not None and content_type and content_type not in media_types:
        raise UnsupportedMediaType(f"Unsupported Content-Type: {content_type}")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed JSON in request body.") from None


def query() -> dict[str, list[str]]:
    return dict(app.current_event.multi_value_query_string_parameters or {})


def ports():
    from image_import.adapters.ports import default_ports

    return default_ports()


IMPORT_OFF = "Image import is not supported at this site."


def require_import_enabled() -> None:
    """The import gate: with enable_image_import = false these routes answer as an API without import."""
    if not get_settings().enable_image_import:
        raise NotFound(IMPORT_OFF)


def present(image, context) -> dict:
    """The image as this caller may see it (unreadable protected properties left out)."""
    from image_import.images.catalog import BASE_FIELDS
    from image_import.policy.protections import shown

    return shown(image.to_api(), BASE_FIELDS | {"self", "file", "schema"}, context, get_settings())


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"x-openstack-request-id": request_id(), **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=all_headers, body="")
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=all_headers)


# ---------------------------------------------------------------- Glance's routing
def _no_trailing_slash(app: APIGatewayRestResolver, next_middleware):
    """Glance's routes do not match a path ending in ``/`` (``GET /v2/images/`` is 404, tempest checks it);
    Powertools' REST resolver would treat it as the path without the slash."""
    path = app.current_event.path or "/"
    if len(path) > 1 and path.endswith("/"):
        raise NotFound("The resource could not be found.")
    return next_middleware(app)


app.use(middlewares=[_no_trailing_slash])


# ---------------------------------------------------------------- errors
@app.exception_handler(GlanceError)
def glance_error(error: GlanceError) -> Response:
    content_type, body = render_error(error, _header("accept"))
    log = logger.warning if error.status >= 500 else logger.info
    log("request refused", extra={"status": error.status, "explanation": error.explanation})
    return Response(
        status_code=error.status,
        content_type=content_type,
        body=body,
        headers={"x-openstack-request-id": request_id(), **error.headers},
    )


@app.not_found
def not_found(_: NotFoundError) -> Response:
    return glance_error(NotFound("The resource could not be found."))


# ---------------------------------------------------------------- versions, schemas, discovery
@app.get("/")
def root() -> Response:
    return respond(300, versions_document(base_url(), get_settings().enable_image_import))


@app.get("/versions")
def versions() -> Response:
    return respond(200, versions_document(base_url(), get_settings().enable_image_import))


@app.get("/v2/schemas/image")
def schema_image() -> Response:
    from image_import.images.schemas import image_schema

    settings = get_settings()
    return respond(200, image_schema(settings.disk_formats, settings.container_formats))


@app.get("/v2/schemas/images")
def schema_images() -> Response:
    from image_import.images.schemas import image_schema, images_schema

    settings = get_settings()
    return respond(200, images_schema(image_schema(settings.disk_formats, settings.container_formats)))


@app.get("/v2/schemas/task")
def schema_task() -> Response:
    from image_import.images.schemas import task_schema

    return respond(200, task_schema())


@app.get("/v2/schemas/tasks")
def schema_tasks() -> Response:
    from image_import.images.schemas import task_schema, tasks_schema

    return respond(200, tasks_schema(task_schema()))


@app.get("/v2/schemas/member")
def schema_member() -> Response:
    from image_import.images.schemas import member_schema

    return respond(200, member_schema())


@app.get("/v2/schemas/members")
def schema_members() -> Response:
    from image_import.images.schemas import member_schema, members_schema

    return respond(200, members_schema(member_schema()))


@app.get("/v2/info/import")
def info_import() -> Response:
    caller()
    require_import_enabled()
    methods = list(get_settings().enabled_import_methods)
    return respond(
        200, {"import-methods": {"description": "Import methods available.", "type": "array", "value": methods}}
    )


@app.get("/v2/info/stores")
def info_stores() -> Response:
    caller()
    raise NotFound("Multi backend is not supported at this site.")


# ---------------------------------------------------------------- images
@app.post("/v2/images")
def create_image() -> Response:
    from image_import.images.catalog import create_image as create

    settings = get_settings()
    context = caller()
    image = create(context, json_body(), settings, ports())
    headers = {"Location": f"{base_url()}/v2/images/{image.id}"}
    if settings.enabled_import_methods and settings.enable_image_import:
        headers["OpenStack-image-import-methods"] = ",".join(settings.enabled_import_methods)
    return respond(201, present(image, context), headers)


@app.get("/v2/images")
def list_images() -> Response:
    from urllib.parse import urlencode

    from image_import.images.catalog import list_images as list_

    params = query()
    context = caller()
    page = list_(context, params, get_settings(), ports())
    pairs = [(k, v) for k, values in params.items() if k != "marker" for v in values]
    first = "/v2/images" + (f"?{urlencode(pairs)}" if pairs else "")
    body: dict[str, Any] = {
        "images": [present(i, context) for i in page.images],
        "first": first,
        "schema": "/v2/schemas/images",
    }
    if page.next_marker:
        body["next"] = "/v2/images?" + urlencode([*pairs, ("marker", page.next_marker)])
    return respond(200, body)


@app.get(f"/v2/images/{IMAGE_ID}")
def show_image(image_id: str) -> Response:
    from image_import.images.catalog import get_image

    context = caller()
    return respond(200, present(get_image(context, image_id, ports()), context))


@app.delete(f"/v2/images/{IMAGE_ID}")
def delete_image(image_id: str) -> Response:
    from image_import.images.catalog import delete_image as delete

    delete(caller(), image_id, ports())
    return respond(204)


@app.put(f"/v2/images/{IMAGE_ID}/stage")
def stage_image(image_id: str) -> Response:
    from image_import.data.stage import stage_image as stage

    context = caller()
    settings = get_settings()
    require_import_enabled()
    if "glance-direct" not in settings.enabled_import_methods:
        raise NotFound("'glance-direct' method is not available at this site.")
    content_type = (_header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/octet-stream":
        raise UnsupportedMediaType(f"Unsupported Content-Type: {content_type or 'none'}")
    stage(context, image_id, [raw_body()], _header("x-openstack-image-size"), settings, ports())
    return respond(204)


@app.post(f"/v2/images/{IMAGE_ID}/import")
def import_image(image_id: str) -> Response:
    from image_import.workflow.start import start_import

    context = caller()
    require_import_enabled()
    task = start_import(context, image_id, json_body(), get_settings(), ports())
    logger.info("import started", extra={"image_id": image_id, "task_id": task.id})
    return respond(202)


@app.get(f"/v2/images/{IMAGE_ID}/file")
def download_image(image_id: str) -> Response:
    from image_import.images.download import download_image as download

    answer = download(caller(), image_id, _header("range"), _header("content-range"), get_settings(), ports())
    headers = {"x-openstack-request-id": request_id(), **answer.headers}
    if answer.status in (204, 303):
        return Response(status_code=answer.status, headers=headers, body="")
    return Response(status_code=answer.status, headers=headers, body=answer.body)  # bytes: sent base64


@app.get(f"/v2/images/{IMAGE_ID}/tasks")
def image_tasks(image_id: str) -> Response:
    from image_import.images.catalog import get_image

    context = caller()
    get_image(context, image_id, ports())
    tasks = [t for t in ports().tasks.for_image(image_id) if context.is_admin or t.owner == context.project_id]
    return respond(200, {"tasks": [t.as_image_task() for t in tasks]})


@app.patch(f"/v2/images/{IMAGE_ID}")
def update_image(image_id: str) -> Response:
    from image_import.images.update import update_image as update

    context = caller()
    media_type = (_header("content-type") or "").split(";")[0].strip().lower()
    body = json_body(media_types=None) if media_type.endswith("json-patch") else None
    image = update(context, image_id, media_type, body, get_settings(), ports())
    return respond(200, present(image, context))


@app.put(f"/v2/images/{IMAGE_ID}/file")
def upload_image(image_id: str) -> Response:
    from image_import.data.file_upload import upload_image as upload

    context = caller()
    content_type = (_header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/octet-stream":
        raise UnsupportedMediaType(f"Unsupported Content-Type: {content_type or 'none'}")
    upload(context, image_id, [raw_body()], _header("x-openstack-image-size"), get_settings(), ports())
    return respond(204)


def no_body() -> None:
    if raw_body():
        raise BadRequest("A body is not expected with this request.")


@app.put(f"/v2/images/{IMAGE_ID}/tags/<tag>")
def add_tag(image_id: str, tag: str) -> Response:
    from image_import.images.tags import add_tag as add

    no_body()
    add(caller(), image_id, unquote(tag), get_settings(), ports())
    return respond(204)


@app.delete(f"/v2/images/{IMAGE_ID}/tags/<tag>")
def delete_tag(image_id: str, tag: str) -> Response:
    from image_import.images.tags import delete_tag as delete

    no_body()
    delete(caller(), image_id, unquote(tag), get_settings(), ports())
    return respond(204)


@app.post(f"/v2/images/{IMAGE_ID}/actions/<action>")
def image_action(image_id: str, action: str) -> Response:
    from image_import.images.activation import TRANSITIONS, change_activation

    if action not in TRANSITIONS:
        raise NotFound("The resource could not be found.")
    no_body()
    change_activation(caller(), image_id, action, get_settings(), ports())
    return respond(204)


# ---------------------------------------------------------------- image sharing (members)
MEMBER_ID = "<member_id>"


@app.get(f"/v2/images/{IMAGE_ID}/members")
def list_members(image_id: str) -> Response:
    from image_import.images.members import list_members as list_

    context = caller()
    no_body()
    members = list_(context, image_id, get_settings(), ports())
    return respond(200, {"members": members, "schema": "/v2/schemas/members"})


@app.post(f"/v2/images/{IMAGE_ID}/members")
def add_member(image_id: str) -> Response:
    from image_import.images.members import add_member as add

    context = caller()
    return respond(200, add(context, image_id, json_body(required=False), get_settings(), ports()))


@app.get(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def show_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import get_member

    context = caller()
    no_body()
    return respond(200, get_member(context, image_id, unquote(member_id), get_settings(), ports()))


@app.put(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def update_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import update_member as update

    context = caller()
    body = json_body(required=False)
    return respond(200, update(context, image_id, unquote(member_id), body, get_settings(), ports()))


@app.delete(f"/v2/images/{IMAGE_ID}/members/{MEMBER_ID}")
def delete_member(image_id: str, member_id: str) -> Response:
    from image_import.images.members import delete_member as delete

    context = caller()
    no_body()
    delete(context, image_id, unquote(member_id), get_settings(), ports())
    return respond(204)


@app.get("/v2/tasks")
def list_tasks() -> Response:
    from urllib.parse import urlencode

    from image_import.images.tasks import list_tasks as list_
    from image_import.images.tasks import task_stub

    params = query()
    page = list_(caller(), params, get_settings(), ports())
    pairs = [(k, v) for k, values in params.items() if k != "marker" for v in values]
    body: dict[str, Any] = {
        "tasks": [task_stub(t) for t in page.tasks],
        "first": "/v2/tasks" + (f"?{urlencode(pairs)}" if pairs else ""),
        "schema": "/v2/schemas/tasks",
    }
    if page.next_marker:
        body["next"] = "/v2/tasks?" + urlencode([*pairs, ("marker", page.next_marker)])
    return respond(200, body)


@app.get("/v2/tasks/<task_id>")
def show_task(task_id: str) -> Response:
    from image_import.images.tasks import get_task, task_detail

    return respond(200, task_detail(get_task(caller(), task_id, get_settings(), ports())))


@app.delete("/v2/tasks/<task_id>")
def delete_task(task_id: str) -> Response:
    caller()
    raise MethodNotAllowed(
        "This operation is currently not permitted on Glance Tasks. It is restricted to GET.", headers={"Allow": "GET"}
    )


# ---------------------------------------------------------------- direct uploads (an extension: not in Glance)
@app.post(f"/v2/images/{IMAGE_ID}/upload-urls")
def upload_urls(image_id: str) -> Response:
    """Presigned URLs to put the image's data straight into S3 (no size limit from API Gateway/Lambda)."""
    from image_import.data.direct_upload import request_upload

    offer = request_upload(caller(), image_id, json_body(), get_settings(), ports())
    body: dict[str, Any] = {
        "image_id": offer.image_id,
        "size": offer.size,
        "import": offer.start_import,
        "expires_in": offer.expires_in,
    }
    if offer.upload_id is None:
        body["url"] = offer.url
    else:
        body["multipart"] = {
            "upload_id": offer.upload_id,
            "part_size": offer.part_size,
            "parts": [{"part_number": n, "url": url} for n, url in enumerate(offer.part_urls, start=1)],
            "complete_url": f"{base_url()}/v2/images/{image_id}/upload-complete",
        }
    return respond(200, body)


@app.post(f"/v2/images/{IMAGE_ID}/upload-complete")
def upload_complete(image_id: str) -> Response:
    """Complete a multipart upload server-side (S3 lists the parts); the S3 event then stages the image."""
    from image_import.data.direct_upload import complete_upload

    complete_upload(caller(), image_id, json_body(), get_settings(), ports())
    return respond(202)

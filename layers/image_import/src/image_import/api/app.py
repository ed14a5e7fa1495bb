"""The Images API v2 resolver: Glance's routing rules, domain errors in Glance's format, every resource's Router."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from image_import.api.errors import render_error
from image_import.api.requests import header, request_id
from image_import.api.routes import data, images, imports, members, schemas, tags, tasks, versions
from image_import.errors import GlanceError, NotFound
from image_import.observability import logger

app = APIGatewayRestResolver()


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
    content_type, body = render_error(error, header("accept"))
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


# ---------------------------------------------------------------- the resources
# No two routes of one method match the same path (path parameters never span a "/"), so the order
# of the routers does not decide which route answers; a method a path does not have is a 404.
for resource in (versions, schemas, imports, images, data, tags, members, tasks):
    app.include_router(resource.router)

"""The Images API v2 resolver: Glance's routing rules, domain errors in Glance's format, every resource's Router."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from image_import.api.errors import render_error
from image_import.api.requests import header, request_id
from image_import.api.routes import data, images, imports, members, metadefs, schemas, tags, tasks, versions
from image_import.errors import GlanceError, MethodNotAllowed, NotFound
from image_import.notifications import batch
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


ID_PARAMETERS = ("image_id", "task_id")  # every path parameter that names an image or a task


def _canonical_ids(app: APIGatewayRestResolver, next_middleware):
    """An id in the path in the one form records are stored in (models/ids.py): ``GET /v2/images/<ID IN
    UPPER CASE>`` is the image, as in Glance's case-insensitive database, and every route (and the keys
    it derives: ``staging/<id>``...) sees the stored spelling. The route's arguments are the resolver's
    ``_route_args`` (Powertools passes them from there): without them this fails every route, loudly."""
    arguments = app.context["_route_args"]
    for name in ID_PARAMETERS:
        if name in arguments:
            from image_import.models.ids import canonical_id  # a route with an id loads the models anyway

            arguments[name] = canonical_id(arguments[name])
    return next_middleware(app)


def _events_sent_together(app: APIGatewayRestResolver, next_middleware):
    """The request's lifecycle events go out in one PutEvents call (10 entries a call) once its route is
    done, raising or not, before the response is returned: a frozen sandbox cannot lose them."""
    with batch():
        return next_middleware(app)


app.use(middlewares=[_events_sent_together, _no_trailing_slash, _canonical_ids])


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
    """No route for this method and path: 405 with ``Allow`` when the path has routes of other methods
    (Glance's router answers so, any method name included), else 404."""
    event = app.current_event
    path = app._remove_prefix(event.path or "/")
    allowed = [] if len(path) > 1 and path.endswith("/") or path in NO_405 else allowed_methods(path)
    if allowed:
        method = event.http_method.upper()
        return glance_error(
            MethodNotAllowed(
                f"The method {method} is not allowed for this resource.", headers={"Allow": ", ".join(allowed)}
            )
        )
    return glance_error(NotFound("The resource could not be found."))


NO_405 = {"/v2/info/usage"}  # Glance's router has no method-reject route for these: another method is 404
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")  # the order of Glance's Allow headers


def allowed_methods(path: str) -> list[str]:
    """The methods the API's routes answer on ``path``, in Glance's order."""
    methods = {route.method.upper() for route in app._static_routes + app._dynamic_routes if route.rule.match(path)}
    return [m for m in METHOD_ORDER if m in methods] + sorted(methods - set(METHOD_ORDER))


# ---------------------------------------------------------------- the resources
# No two routes of one method match the same path (path parameters never span a "/"), so the order
# of the routers does not decide which route answers; a method a path does not have is a 405.
for resource in (versions, schemas, imports, images, data, tags, members, tasks, metadefs):
    app.include_router(resource.router)

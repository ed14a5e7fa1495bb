"""Reading the request being resolved: headers, body, query, media type, the caller's identity."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from image_import.errors import BadRequest, Unauthorized, UnsupportedMediaType
from image_import.identity.authorizer import caller_from_authorizer
from image_import.settings import get_settings

_SURROGATE = re.compile("[\ud800-\udfff]")

if TYPE_CHECKING:  # pydantic models cost ~100 ms to import: only routes that need them pay
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from image_import.models import RequestContext

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
UNAUTHORIZED = (  # Glance's (WebOb's) 401 explanation
    "This server could not verify that you are authorized to access the document you requested. Either you"
    " supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply"
    " the credentials required."
)
MAX_JSON_DEPTH = 32  # no body of this API nests deeper than 4; Python's parser would recurse until it fails


def event() -> APIGatewayProxyEvent:
    """The request being resolved. The resolver publishes it on BaseRouter for itself and every Router
    (Powertools' own mechanism), so these helpers need not import the app, which imports the routes."""
    return BaseRouter.current_event  # type: ignore[return-value]


def header(name: str) -> str | None:
    return event().get_header_value(name, default_value=None, case_sensitive=False)


def media_type() -> str:
    """The Content-Type without its parameters, lower case; "" when there is none."""
    return (header("content-type") or "").split(";")[0].strip().lower()


def require_media_type(expected: str) -> None:
    """Refuse (415) a body sent as anything but ``expected``."""
    given = media_type()
    if given != expected:
        raise UnsupportedMediaType(f"Unsupported Content-Type: {given or 'none'}")


def request_id() -> str:
    """Glance's request id: the client's X-Openstack-Request-Id if sane, else one of ours."""
    given = header("x-openstack-request-id")
    if given and len(given) <= 64:
        return given if given.startswith("req-") else f"req-{given}"
    return f"req-{event().request_context.request_id or uuid.uuid4()}"


def caller() -> RequestContext:
    """Identity set by the API Gateway authorizer (never taken from client headers)."""
    from image_import.models import RequestContext
    from image_import.policy.rules import admin_context

    caller = caller_from_authorizer(event().raw_event.get("requestContext", {}).get("authorizer"))
    if caller is None:
        raise Unauthorized(UNAUTHORIZED)
    return admin_context(RequestContext.of(caller, request_id()), get_settings())


def base_url() -> str:
    settings = get_settings()
    if settings.public_endpoint:
        return settings.public_endpoint
    host = header("host") or "localhost"
    scheme = header("x-forwarded-proto") or "http"
    stage = event().request_context.stage
    # the execute-api host serves the API under /<stage>; a custom domain or the local stack does not
    prefix = f"/{stage}" if ".execute-api." in host and stage else ""
    return f"{scheme}://{host}{prefix}"


def raw_body() -> bytes:
    body = event().body
    if body is None:
        return b""
    if event().is_base64_encoded:
        return base64.b64decode(body)
    return body.encode("utf-8")


def no_body() -> None:
    if raw_body():
        raise BadRequest("A body is not expected with this request.")


def json_body(required: bool = True) -> Any:
    """The JSON request body. Glance reads it as JSON whatever its Content-Type (``curl -d`` sends
    form-encoded; checked against Glance 33 on create, import, members and tasks): only PATCH and the
    data routes look at the media type."""
    data = raw_body()
    if not data:
        if required:
            raise BadRequest("Body expected in request.")
        return None
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("Malformed JSON in request body.") from None
    if not _storable(parsed):
        raise BadRequest("Malformed JSON in request body.")
    return parsed


def _storable(document: Any) -> bool:
    """Nested at most MAX_JSON_DEPTH deep, and every string (keys too) valid Unicode: JSON's ``\\ud800``
    escapes decode to lone surrogates, which no UTF-8 store (DynamoDB, a log line) can hold."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return False
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return False
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return True


def query() -> dict[str, list[str]]:
    return dict(event().multi_value_query_string_parameters or {})

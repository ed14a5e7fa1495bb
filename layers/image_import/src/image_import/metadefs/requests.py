"""The metadefs API's request checks, in Glance's words: the body, read-only keys, the schemas, list parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import BadRequest, Forbidden, check_schema
from image_import.metadefs.schemas import SCHEMAS
from image_import.metadefs.shapes import PROPERTY_FIELDS

if TYPE_CHECKING:
    from image_import.settings import Settings

READ_ONLY = ("self", "schema", "created_at", "updated_at")
TIMESTAMPS = ("created_at", "updated_at")
TAGS_BODY_SCHEMA = {
    "name": "tags",
    "properties": {
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


def document(body: Any) -> dict[str, Any]:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest("Provided object does not match schema: the body must be a JSON object")
    return body


def check_read_only(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")


def checked(body: Any, name: str, read_only: tuple[str, ...] = READ_ONLY, **how: Any) -> dict[str, Any]:
    """The body, a JSON object without read-only keys, that the schema ``name`` accepts (400/403 otherwise)."""
    body = document(body)
    check_read_only(body, read_only)
    validate(body, name, **how)
    return body


def validate(body: Any, name: str, *, schema: dict[str, Any] | None = None, without_name: bool = False) -> None:
    schema = dict(schema or SCHEMAS[name])
    if without_name and "required" in schema:
        schema["required"] = [key for key in schema["required"] if key != "name"]
    check_schema(body, schema, schema["name"])


def check_property(definition: Any) -> None:
    """What WSME's PropertyType refuses (Glance answers 500 here; a bad request is the client's: 400)."""
    if not isinstance(definition, dict):
        return
    unknown = sorted(set(definition) - set(PROPERTY_FIELDS))
    if unknown:
        raise BadRequest(f"Unknown attribute for argument properties: {', '.join(unknown)}")


def check_properties(container: dict[str, Any]) -> None:
    for definition in (container.get("properties") or {}).values():
        check_property(definition)


def last_values(params: dict[str, list[str]]) -> dict[str, str]:
    """A query string as Glance reads it: the last value of each parameter."""
    return {key: values[-1] for key, values in params.items() if values}


def sort_dir(value: str) -> str:
    if value not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {value}")
    return value


def visibility(query: dict[str, str], allowed: tuple[str, ...]) -> None:
    value = query.get("visibility")
    if value and value not in allowed:
        raise BadRequest(f"Invalid visibility value: {value}")


def limit(value: str | None, settings: Settings, *, allow_zero: bool = False) -> int:
    if value is None:
        return settings.limit_param_default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise BadRequest("limit param must be positive")
    return min(settings.api_limit_max, number)


def list_params(params: dict[str, list[str]], settings: Settings, visibilities: tuple[str, ...]) -> None:
    """The objects list's parameters: checked as Glance checks them (its database ignores them)."""
    query = last_values(params)
    sort_dir(query.get("sort_dir", "desc"))
    visibility(query, visibilities)
    if "limit" in query:
        limit(query["limit"], settings)

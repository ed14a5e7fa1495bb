"""What the metadefs API shows: the fields Glance keeps of each record, its key order, links and prefixes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from image_import.models.metadef import MetadefNamespace

# WSME's PropertyType: the attributes Glance keeps of a property definition
PROPERTY_FIELDS = (
    "name", "type", "title", "description", "operators", "default", "readonly", "minimum", "maximum", "enum",
    "pattern", "minLength", "maxLength", "confidential", "items", "uniqueItems", "minItems", "maxItems",
    "additionalItems",
)  # fmt: skip
OBJECT_FIELDS = ("name", "description", "required", "properties")
ASSOCIATION_FIELDS = ("name", "prefix", "properties_target")


def namespace_href(name: str) -> str:
    return f"/v2/metadefs/namespaces/{name}"


def object_href(namespace: str, name: str) -> str:
    return f"/v2/metadefs/namespaces/{namespace}/objects/{name}"


def present_namespace(record: MetadefNamespace) -> dict[str, Any]:
    return {**record.fields(), "self": namespace_href(record.namespace), "schema": "/v2/schemas/metadefs/namespace"}


def present_object(namespace: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": record["name"],
        "required": record.get("required") or [],
        **({"description": record["description"]} if record.get("description") is not None else {}),
        "properties": record.get("properties") or {},
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "self": object_href(namespace, record["name"]),
        "schema": "/v2/schemas/metadefs/object",
    }


def present_written_object(
    namespace: str, record: dict[str, Any], fields: tuple[str, ...] | list[str]
) -> dict[str, Any]:
    """An object as its create or update answers: ``fields`` of the record, its times, its links."""
    return {
        **{key: record[key] for key in fields if key in record},
        "created_at": record["created_at"], "updated_at": record["updated_at"],
        "self": object_href(namespace, record["name"]), "schema": "/v2/schemas/metadefs/object",
    }  # fmt: skip


def present_property(record: dict[str, Any]) -> dict[str, Any]:
    return {"name": record["name"], **{k: v for k, v in record["schema"].items() if k != "name"}}


def present_tag(record: dict[str, Any]) -> dict[str, Any]:
    return shown(record, ("name", "created_at", "updated_at"))


def present_association(record: dict[str, Any]) -> dict[str, Any]:
    return shown(record, (*ASSOCIATION_FIELDS, "created_at", "updated_at"))


def shown(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: record[key] for key in fields if record.get(key) is not None}


def before_links(document: dict[str, Any], **contained: Any) -> dict[str, Any]:
    """Glance's key order: the record, then what it contains, then ``self`` and ``schema``."""
    links: dict[str, Any] = {key: document.pop(key) for key in ("self", "schema") if key in document}
    return {**document, **{k: v for k, v in contained.items() if v}, **links}


def prefix_names(contained: dict[str, Any], resource_type: str) -> None:
    """GET namespace?resource_type=: property names with that association's prefix, as Glance shows them."""
    prefix = next(
        (a.get("prefix") for a in contained.get("resource_type_associations", []) if a["name"] == resource_type), None
    )
    if not prefix:
        return
    if "properties" in contained:
        contained["properties"] = {prefix + key: value for key, value in contained["properties"].items()}
    for obj in contained.get("objects", []):
        obj["properties"] = {prefix + key: value for key, value in (obj.get("properties") or {}).items()}
        if obj.get("required"):
            obj["required"] = [prefix + name for name in obj["required"]]


def property_schema(definition: dict[str, Any]) -> dict[str, Any]:
    return {key: definition[key] for key in PROPERTY_FIELDS if definition.get(key) is not None}


def record_key(kind: str, name: str) -> str:
    """Tag names are unique regardless of case (Glance's message says so; MySQL's collation makes it so)."""
    return name.lower() if kind == "tag" else name


def _itself(record: Any) -> dict[str, Any]:
    return record


def in_order(
    records: list[Any], sort_key: str, sort_dir: str, document: Callable[[Any], dict[str, Any]] = _itself
) -> list[Any]:
    """Glance's order: ``sort_key``, then created_at, then creation (its id), all in ``sort_dir``;
    ``document`` gives a record's fields (as stored: ``_seq`` included)."""

    def key(record: Any) -> tuple:
        fields = document(record)
        value = fields.get(sort_key)
        return (value is not None, str(value) if value is not None else "", fields.get("created_at", ""),
                fields.get("_seq", 0))  # fmt: skip

    return sorted(records, key=key, reverse=sort_dir == "desc")

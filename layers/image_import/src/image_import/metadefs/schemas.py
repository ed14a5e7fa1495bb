"""Glance 33's metadata-definition schemas, ``GET /v2/schemas/metadefs/<name>``, as Glance serves them.

Plain data (what Glance 33 answers, key order kept): clients such as Horizon render forms from these,
and tempest compares their names. Each block Glance repeats (a property definition's attributes, the
definitions, a record's timestamps, a collection's links) is written once here, as Glance's
``glance/api/v2/metadef_*.py`` build them; every schema gets its own copy, so no two share a dict.
"""

from __future__ import annotations

from typing import Any

TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
READ_ONLY_STRING = {"readOnly": True, "type": "string"}
RESOURCE_TYPE_NAME = (
    "Resource type names should be aligned with Heat resource types whenever possible: "
    "https://docs.openstack.org/heat/latest/template_guide/openstack.html"
)
RESOURCE_TYPE_PREFIX = (
    "Specifies the prefix to use for the given resource type. Any properties in the namespace should be "
    "prefixed with this prefix when being applied to the specified resource type. Must include prefix "
    "separator (e.g. a colon :)."
)
RESOURCE_TYPE_TARGET = (
    "Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user "
    "and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or "
    "drivers). This property allows a namespace target to remove the ambiguity."
)


def _timestamps(what: str) -> dict[str, Any]:
    """``created_at`` and ``updated_at``, worded for ``what`` (e.g. "namespace creation")."""
    created, _, modified = what.partition("|")
    return {
        "created_at": {"type": "string", "readOnly": True, "description": created, "format": "date-time"},
        "updated_at": {"type": "string", "readOnly": True, "description": modified, "format": "date-time"},
    }


def _of(record: str) -> dict[str, Any]:
    return _timestamps(f"Date and time of {record} creation|Date and time of the last {record} modification")


def _property_attributes() -> dict[str, Any]:
    """What a property definition may say (Glance's ``_get_base_properties`` of metadef_properties.py)."""
    return {
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": list(TYPES)},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": list(TYPES)}, "enum": {"type": "array"}},
        },
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": False},
        "additionalItems": {"type": "boolean"},
    }


def _definitions(*, with_property: bool) -> dict[str, Any]:
    """The ``definitions`` block: the namespace and object schemas add the property map (and their string
    arrays may be empty); the property schemas' string arrays need one item."""
    string_array: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    if not with_property:
        string_array = {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True}
    definitions: dict[str, Any] = {
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
        "stringArray": string_array,
    }
    if with_property:
        definitions["property"] = {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "type"],
                "properties": _property_attributes(),
            },
        }
    return definitions


def _collection(name: str, key: str, items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A list schema: the items under ``key``, the paging links (and ``extra``, e.g. definitions)."""
    return {
        "name": name,
        "properties": {
            key: items,
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
        **extra,
    }


def _object_fields() -> dict[str, Any]:
    return {
        "name": {"type": "string", "maxLength": 80},
        "description": {"type": "string"},
        "required": {"$ref": "#/definitions/stringArray"},
        "properties": {"$ref": "#/definitions/property"},
    }


def _namespace_fields() -> dict[str, Any]:
    return {
        "namespace": {"type": "string", "description": "The unique namespace text.", "maxLength": 80},
        "display_name": {
            "type": "string",
            "description": "The user friendly name for the namespace. Used by UI if available.",
            "maxLength": 80,
        },
        "description": {
            "type": "string",
            "description": "Provides a user friendly description of the namespace.",
            "maxLength": 500,
        },
        "visibility": {
            "type": "string",
            "description": "Scope of namespace accessibility.",
            "enum": ["public", "private"],
        },
        "protected": {"type": "boolean", "description": "If true, namespace will not be deletable."},
        "owner": {"type": "string", "description": "Owner of the namespace.", "maxLength": 255},
        **_of("namespace"),
        "schema": dict(READ_ONLY_STRING),
        "self": dict(READ_ONLY_STRING),
        "resource_type_associations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "properties_target": {"type": "string"},
                },
            },
        },
        "properties": {"$ref": "#/definitions/property"},
        "objects": {
            "type": "array",
            "items": {"type": "object", "properties": _object_fields() | {"name": {"type": "string"}}},
        },
        "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }


def _namespace(*, definitions: bool = True) -> dict[str, Any]:
    """The namespace schema; as an item of the list, without its definitions (the list has them)."""
    return {
        "name": "namespace",
        "properties": _namespace_fields(),
        "additionalProperties": False,
        **({"definitions": _definitions(with_property=True)} if definitions else {}),
        "required": ["namespace"],
    }


def _object(*, definitions: bool = True) -> dict[str, Any]:
    """The object schema; as an item of the list, without its definitions (the list has them)."""
    return {
        "name": "object",
        "properties": {
            **_object_fields(),
            "schema": dict(READ_ONLY_STRING),
            "self": dict(READ_ONLY_STRING),
            **_of("object"),
        },
        "additionalProperties": False,
        **({"definitions": _definitions(with_property=True)} if definitions else {}),
        "required": ["name"],
    }


def _property() -> dict[str, Any]:
    return {
        "name": "property",
        "properties": _property_attributes(),
        "additionalProperties": False,
        "definitions": _definitions(with_property=False),
        "required": ["type", "title", "name"],
    }


def _property_item() -> dict[str, Any]:
    return {
        "name": "property",
        "properties": _property_attributes(),
        "additionalProperties": False,
        "required": ["type", "title"],
    }


def _tag() -> dict[str, Any]:
    return {
        "name": "tag",
        "properties": {"name": {"type": "string", "maxLength": 80}, **_of("tag")},
        "additionalProperties": False,
        "required": ["name"],
    }


def _association() -> dict[str, Any]:
    return {
        "name": "resource_type_association",
        "properties": {
            "name": {"type": "string", "description": RESOURCE_TYPE_NAME, "maxLength": 80},
            "prefix": {"type": "string", "description": RESOURCE_TYPE_PREFIX, "maxLength": 80},
            "properties_target": {"type": "string", "description": RESOURCE_TYPE_TARGET, "maxLength": 80},
            **_timestamps(
                "Date and time of resource type association|"
                "Date and time of the last resource type association modification"
            ),
        },
        "additionalProperties": False,
        "required": ["name"],
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "namespace": _namespace(),
    "namespaces": _collection(
        "namespaces",
        "namespaces",
        {"type": "array", "items": _namespace(definitions=False)},
        definitions=_definitions(with_property=True),
    ),
    "object": _object(),
    "objects": _collection(
        "objects",
        "objects",
        {"type": "array", "items": _object(definitions=False)},
        definitions=_definitions(with_property=True),
    ),
    "property": _property(),
    "properties": _collection(
        "properties",
        "properties",
        {"type": "object", "additionalProperties": _property_item()},
        definitions=_definitions(with_property=False),
    ),
    "tag": _tag(),
    "tags": _collection("tags", "tags", {"type": "array", "items": _tag()}),
    "resource_type": _association(),
    "resource_types": _collection(
        "resource_type_associations", "resource_type_associations", {"type": "array", "items": _association()}
    ),
}

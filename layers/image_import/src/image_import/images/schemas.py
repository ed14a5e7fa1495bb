"""The image JSON schemas served at /v2/schemas/image(s).

Clients build models from these (python-glanceclient validates every image body it receives
against the served schema), so every body we return must validate against them.
"""

from __future__ import annotations

from typing import Any

UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
STATUSES = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
]


def _nullable(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": ["null", kind], "description": description, **extra}


def _read_only(kind: Any, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "readOnly": True, "description": description, **extra}


def image_schema(disk_formats: list[str] | tuple[str, ...], container_formats: list[str] | tuple[str, ...]) -> dict:
    properties: dict[str, Any] = {
        "id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
        "name": _nullable("string", "Descriptive name for the image", maxLength=255),
        "status": _read_only("string", "Status of the image", enum=STATUSES),
        "visibility": {
            "type": "string",
            "description": "Scope of image accessibility",
            "enum": ["community", "public", "private", "shared"],
        },
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {
            "type": "boolean",
            "description": "If true, image will not appear in default image list response.",
        },
        "checksum": _read_only(["null", "string"], "md5 hash of image contents.", maxLength=32),
        "os_hash_algo": _read_only(["null", "string"], "Algorithm to calculate the os_hash_value", maxLength=64),
        "os_hash_value": _read_only(["null", "string"], "Hexdigest of the image contents", maxLength=128),
        "owner": _nullable("string", "Owner of the image", maxLength=255),
        "size": _read_only(["null", "integer"], "Size of image file in bytes"),
        "virtual_size": _read_only(["null", "integer"], "Virtual size of image in bytes"),
        "container_format": _nullable("string", "Format of the container", enum=[None, *container_formats]),
        "disk_format": _nullable("string", "Format of the disk", enum=[None, *disk_formats]),
        "created_at": _read_only("string", "Date and time of image registration"),
        "updated_at": _read_only("string", "Date and time of the last image modification"),
        "tags": {
            "type": "array",
            "description": "List of strings related to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": _read_only("string", "URL to access the image file kept in external store"),
        "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
        "self": _read_only("string", "An image self url"),
        "file": _read_only("string", "An image file url"),
        "stores": _read_only("string", "Store in which image data resides."),
        "schema": _read_only("string", "An image schema url"),
        "locations": {
            "type": "array",
            "description": "A set of URLs to access the image file kept in external store",
            "items": {
                "type": "object",
                "properties": {"url": {"type": "string", "maxLength": 255}, "metadata": {"type": "object"}},
                "required": ["url", "metadata"],
            },
        },
    }
    return {
        "name": "image",
        "properties": properties,
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def _collection_schema(name: str, item: dict) -> dict:
    """A list of ``item``s with Glance's paging links (first, next): the images and tasks collections."""
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def images_schema(image: dict) -> dict:
    return _collection_schema("images", image)


def task_schema() -> dict:
    text = {"type": "string"}
    properties = {
        "id": {"type": "string", "description": "An identifier for the task", "pattern": UUID_PATTERN},
        "type": {
            "type": "string",
            "description": "The type of task represented by this content",
            "enum": ["import", "api_image_import", "location_import"],
        },
        "status": {
            "type": "string",
            "description": "The current status of this task",
            "enum": ["pending", "processing", "success", "failure"],
        },
        "input": {"type": ["null", "object"], "description": "The parameters required by task"},
        "result": {"type": ["null", "object"], "description": "The result of current task"},
        "owner": {"type": ["null", "string"], "description": "An identifier for the owner of this task"},
        "message": {"type": "string", "description": "Human-readable informative message"},
        "image_id": {"type": "string", "description": "Image associated with the task"},
        "request_id": {"type": "string", "description": "Request ID of the operation that created the task"},
        "user_id": {"type": "string", "description": "User associated with the task"},
        "expires_at": {"type": ["null", "string"], "description": "When the task expires"},
        "created_at": {**text, "description": "Date and time of task creation"},
        "updated_at": {**text, "description": "Date and time of the last task modification"},
        "self": text,
        "schema": text,
    }
    return {"name": "task", "properties": properties}


def tasks_schema(task: dict) -> dict:
    return _collection_schema("tasks", {"type": "object", "properties": task["properties"]})


def member_schema() -> dict:
    """Glance's image member schema, as /v2/schemas/member serves it (its ``minimal`` form)."""
    properties = {
        "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
        "image_id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
        "created_at": {"type": "string", "description": "Date and time of image member creation"},
        "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
        "status": {
            "type": "string",
            "description": "The status of this image member",
            "enum": ["pending", "accepted", "rejected"],
        },
        "schema": {"readOnly": True, "type": "string"},
    }
    return {"name": "member", "properties": properties}


def members_schema(member: dict) -> dict:
    """/v2/schemas/members: Glance serves the collection's ``minimal`` form (no paging links)."""
    return {
        "name": "members",
        "properties": {"members": {"type": "array", "items": member}, "schema": {"type": "string"}},
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }

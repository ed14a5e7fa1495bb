"""Glance's notification payloads and the oslo.messaging envelope around them, built from our records.

The fields are Glance's own (glance/notifier.py: ``format_image_notification``,
``format_image_member_notification``, ``format_task_notification``), checked against notifications
a real Glance 33 sent (tests/fixtures/glance_notifications.jsonl). Pure: no clock or id is read
here that the caller cannot pass in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from image_import.models.image import FAILED_IMPORT_KEY, IMPORT_LOCK_KEY, IMPORTING_TO_STORES_KEY

if TYPE_CHECKING:
    from image_import.models import Image, Task
    from image_import.models.image import ImageMember

DEFAULT_PUBLISHER_ID = "image.localhost"  # Glance's [DEFAULT] default_publisher_id
PRIORITIES = ("INFO", "WARN", "ERROR")


def image_payload(image: Image) -> dict[str, Any]:
    """What Glance sends for ``image.create``, ``image.update``, ``image.activate`` (and, with
    :func:`import_properties`, ``image.prepare`` and ``image.upload``). Never a location."""
    properties = dict(image.properties)
    if image.import_lock is not None:  # Glance keeps the lock among the extra properties
        properties[IMPORT_LOCK_KEY] = image.import_lock.task_id
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "created_at": image.created_at,
        "updated_at": image.updated_at,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "protected": image.protected,
        "checksum": image.checksum,
        "owner": image.owner,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "is_public": image.visibility == "public",
        "visibility": image.visibility,
        "properties": properties,
        "tags": sorted(image.tags),
        "deleted": False,
        "deleted_at": None,
    }


def import_properties(image: Image) -> dict[str, list[str]]:
    """The extra fields of ``image.prepare`` and ``image.upload``: the import's store lists, as lists."""

    def listed(key: str) -> list[str]:
        value = image.properties.get(key) or ""
        return [store for store in value.split(",") if store]

    return {IMPORTING_TO_STORES_KEY: listed(IMPORTING_TO_STORES_KEY), FAILED_IMPORT_KEY: listed(FAILED_IMPORT_KEY)}


def deleted_image_payload(image: Image, deleted_at: str) -> dict[str, Any]:
    """``image.delete``: the image as it was, now ``deleted`` (Glance's remove sets status and times)."""
    return {**image_payload(image), "status": "deleted", "updated_at": deleted_at, "deleted": True,
            "deleted_at": deleted_at}  # fmt: skip


def member_payload(image_id: str, member_id: str, member: ImageMember, deleted_at: str | None = None) -> dict[str, Any]:
    """``image.member.create`` / ``update`` / ``delete`` (with ``deleted_at``)."""
    return {
        "image_id": image_id,
        "member_id": member_id,
        "status": member.status,
        "created_at": member.created_at,
        "updated_at": member.updated_at,
        "deleted": deleted_at is not None,
        "deleted_at": deleted_at,
    }


def task_payload(task: Task) -> dict[str, Any]:
    """``task.*``. As Glance: neither the input (it may hold a URI with credentials) nor the result or
    message (Glance sends None for both, whatever the task holds)."""
    return {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "result": None,
        "owner": task.owner,
        "message": None,
        "expires_at": task.expires_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "deleted": False,
        "deleted_at": None,
    }


def envelope(
    event_type: str,
    payload: Any,
    *,
    publisher_id: str = DEFAULT_PUBLISHER_ID,
    priority: str = "INFO",
    now: datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """oslo.messaging's notification message: what a Glance consumer reads off the bus."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}")
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    return {
        "message_id": message_id or str(uuid.uuid4()),
        "publisher_id": publisher_id,
        "event_type": event_type,
        "priority": priority,
        "payload": payload,
        "timestamp": str(moment) if moment.microsecond else f"{moment}.000000",  # oslo: str(utcnow())
    }

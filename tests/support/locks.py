"""Images left locked by an import: the lock-expiry and sweeper tests' starting point (unit tier, fakes)."""

from __future__ import annotations

from datetime import UTC, datetime

from image_import.models import Task
from image_import.models.image import ImportLock
from tests.support.imports import staged_image

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def locked_image(ports, settings, *, task_status="processing", updated=T0, with_task=True, data=b"abc"):
    """Given an image left 'importing' by an import whose task was last updated at ``updated``."""
    image_id = staged_image(ports, settings, data)
    if with_task:
        ports.tasks.create(
            Task(id="old", image_id=image_id, status=task_status, created_at=stamp(T0), updated_at=stamp(updated))
        )
    image = ports.images.get(image_id)
    image.status, image.import_lock = "importing", ImportLock(task_id="old", taken_at=stamp(T0))
    ports.images.save(image)
    return image_id

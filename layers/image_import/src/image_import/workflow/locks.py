"""When an image's import lock has expired, and how a new import takes it over (Glance's rules).

A lock is stale when its task shows no progress for 60 minutes (120 while the task is still
``pending``), judged by the task's ``updated_at`` (refreshed by the ``Copied N MiB`` heartbeat).
A lock whose task record is missing is stale once it is older than ``TASKLESS_LOCK_GRACE``: the
import that wrote it records its task right after the lock (workflow/start.py), so a younger one
belongs to an import still starting (Glance takes it over at once, racing that import).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from image_import.adapters.ports import Ports
from image_import.models import Image, Task, lifecycle
from image_import.models.time import parse_time

LOCK_EXPIRY = timedelta(minutes=60)
PENDING_LOCK_EXPIRY = timedelta(minutes=120)
PREEMPTED_MESSAGE = "Expired lock preempted"
# longer than an import's start can take (the API function's 60 s timeout) between lock and task
TASKLESS_LOCK_GRACE = timedelta(minutes=5)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def task_is_stale(task: Task | None, now: datetime) -> bool:
    """Glance's test: no task, or no progress for 60 minutes (120 while pending)."""
    if task is None:
        return True
    limit = PENDING_LOCK_EXPIRY if task.status == "pending" else LOCK_EXPIRY
    return now - parse_time(task.updated_at) >= limit


def lock_is_stale(image: Image, ports: Ports, now: datetime) -> bool:
    if image.import_lock is None:
        return False
    task = ports.tasks.get(image.import_lock.task_id)
    if task is None:  # its import may be between writing the lock and writing the task
        return now - parse_time(image.import_lock.taken_at) >= TASKLESS_LOCK_GRACE
    return task_is_stale(task, now)


def status_before_import(ports: Ports, staging_key: str) -> str:
    """What an 'importing' image was before its (dead) import: 'uploading' if staged data exists."""
    return lifecycle.status_before_import(ports.staging.size(staging_key) is not None)

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

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate
from image_import.models import Image, Task, lifecycle
from image_import.models.time import TASK_TIME_TO_LIVE, parse_time, utc_stamp

LOCK_EXPIRY = timedelta(minutes=60)
PENDING_LOCK_EXPIRY = timedelta(minutes=120)
PREEMPTED_MESSAGE = "Expired lock preempted"
TERMINAL = ("success", "failure")
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


def fail_task(
    ports: Ports, task_id: str, message: str, now: datetime, expires_in: timedelta = TASK_TIME_TO_LIVE
) -> bool:
    """Mark a task failed with ``message`` unless it is already terminal (or gone); True if it was changed."""

    def fail(task: Task | None) -> bool:
        if task is None or task.status in TERMINAL:
            return False
        task.status, task.message, task.updated_at = "failure", message, utc_stamp(now)
        task.expires_at = utc_stamp(now + expires_in)
        return True

    try:
        failed = ports.tasks.edit(task_id, fail, attempts=5)
    except ConcurrentUpdate:
        return False
    if failed is not None:
        notifications.task_event("task.failure", failed, ports)
    return failed is not None


def status_before_import(image: Image, ports: Ports, staging_key: str) -> str:
    """What an 'importing' image was before its (dead) import: 'uploading' if staged data exists."""
    return lifecycle.status_before_import(ports.staging.size(staging_key) is not None)

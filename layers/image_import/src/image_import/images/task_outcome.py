"""How an import's task ends, everywhere: ``Task.fail``/``Task.succeed`` (models/task.py, the one expiry
rule) written with one retry policy and announced by one notification rule.

* Retry: the change is re-applied to a fresh read up to ``ATTEMPTS`` times (a conditional write that lost
  to a concurrent writer, such as a progress heartbeat); a task that keeps changing raises ``TaskAborted``.
* A task that is gone, or has ended already, is left as it is (the first ending wins) and nothing is sent.
* Notification: ``task.failure`` / ``task.success`` once, when this write ended the task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, TaskAborted
from image_import.models import Task
from image_import.settings import Settings

ATTEMPTS = 8


def fail(ports: Ports, task_id: str, message: str, now: datetime | None = None, settings: Settings | None = None):
    """Fail the task (unless it has ended); the failed task, or None if nothing changed."""
    return _end(ports, task_id, "task.failure", lambda task, at: task.fail(message, at), now, settings)


def succeed(
    ports: Ports, task_id: str, result: dict[str, Any], now: datetime | None = None, settings: Settings | None = None
):
    """Make the task a success (unless it has ended); the task, or None if nothing changed."""
    return _end(ports, task_id, "task.success", lambda task, at: task.succeed(result, at), now, settings)


def _end(
    ports: Ports,
    task_id: str,
    event: str,
    ending: Callable[[Task, datetime], bool],
    now: datetime | None,
    settings: Settings | None,
) -> Task | None:
    at = now or datetime.now(UTC)

    def change(task: Task | None) -> bool:
        return task is not None and ending(task, at)

    try:
        ended = ports.tasks.edit(task_id, change, attempts=ATTEMPTS)
    except ConcurrentUpdate:
        raise TaskAborted(f"Task {task_id} kept changing; giving up after {ATTEMPTS} attempts") from None
    if ended is not None:
        notifications.task_event(event, ended, ports, settings)
    return ended

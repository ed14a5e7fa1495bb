"""Whether an event is sent, and sending it: bounded retries, never an error for the caller."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from image_import.models.time import utcnow
from image_import.notifications import payloads

if TYPE_CHECKING:
    from image_import.adapters.ports import Ports
    from image_import.models import Image, Task
    from image_import.models.image import ImageMember
    from image_import.settings import Settings

ATTEMPTS = 3  # one publish and two retries; the API call waits for them, so few and short
BACKOFF_SECONDS = 0.05  # before the second attempt; doubled before the third


def is_enabled(event_type: str, settings: Settings) -> bool:
    """Glance's rules: ``driver = noop`` sends nothing; ``disabled_notifications`` holds event types
    (``image.create``) or groups (``image``, ``image.member``, ``task``), and here also patterns
    (``image.*``, ``task.*ess``)."""
    if not settings.notifications_enabled:
        return False
    for disabled in settings.disabled_notifications:
        if event_type == disabled or event_type.startswith(f"{disabled}.") or fnmatch.fnmatchcase(event_type, disabled):
            return False
    return True


def image_event(
    event_type: str, image: Image, ports: Ports, settings: Settings | None = None, *, with_import: bool = False
) -> None:
    """An image event; ``with_import`` adds the store lists of ``image.prepare`` and ``image.upload``.
    ``image.delete`` reports the image as it was before its tombstone."""
    if event_type == "image.delete":
        _send(event_type, lambda: payloads.deleted_image_payload(image, utcnow()), ports, settings)
    elif with_import:
        _send(event_type, lambda: {**payloads.image_payload(image), **payloads.import_properties(image)}, ports,
              settings)  # fmt: skip
    else:
        _send(event_type, lambda: payloads.image_payload(image), ports, settings)


def member_event(
    event_type: str, image_id: str, member_id: str, member: ImageMember, ports: Ports, settings: Settings | None = None
) -> None:
    deleted_at = utcnow() if event_type == "image.member.delete" else None
    _send(event_type, lambda: payloads.member_payload(image_id, member_id, member, deleted_at), ports, settings)


def task_event(event_type: str, task: Task, ports: Ports, settings: Settings | None = None) -> None:
    _send(event_type, lambda: payloads.task_payload(task), ports, settings)


def error_event(event_type: str, message: str, ports: Ports, settings: Settings | None = None) -> None:
    """What Glance sends when storing data fails (``image.upload`` at ERROR): a text message as payload."""
    _send(event_type, lambda: message, ports, settings, priority="ERROR")


def _send(
    event_type: str, payload: Callable[[], Any], ports: Ports, settings: Settings | None, priority: str = "INFO"
) -> None:
    if ports.events is None:  # no bus in this process (tests with fakes, tools)
        return
    try:
        if settings is None:
            from image_import.settings import get_settings

            settings = get_settings()
        if not is_enabled(event_type, settings):
            return
        message = payloads.envelope(event_type, payload(), publisher_id=settings.publisher_id, priority=priority)
    except Exception:  # a notification is never worth a failed call
        _failed(event_type, "not built", attempts=0)
        return
    publish(message, ports.events)


def publish(message: dict[str, Any], events: Any) -> bool:
    """Hand ``message`` to the bus; on failure try again (ATTEMPTS in all). False when it was lost."""
    delay = BACKOFF_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            events.publish(message)
            return True
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if attempt < ATTEMPTS:
                time.sleep(delay)
                delay *= 2
    _failed(message.get("event_type", "?"), reason, message.get("message_id"))
    return False


def _failed(event_type: str, reason: str, message_id: str | None = None, attempts: int = ATTEMPTS) -> None:
    from image_import import metrics
    from image_import.observability import logger

    logger.warning(
        "notification not published",
        extra={"event_type": event_type, "reason": reason, "message_id": message_id, "attempts": attempts},
    )
    metrics.notification_failed(event_type)

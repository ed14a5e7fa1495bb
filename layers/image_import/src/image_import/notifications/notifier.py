"""Whether an event is sent, and sending it: bounded retries, never an error for the caller.

A handler's events wait in one batch for its invocation's end (``batched``) and go out together, in
the order they happened: a PutEvents call takes up to 10 entries, so an API call that sends 3 events
makes one call instead of 3 on the request's path. Outside a batch (tools, tests) each goes out at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import functools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from image_import.models.time import utcnow
from image_import.notifications import payloads

if TYPE_CHECKING:
    from image_import.adapters.ports import EventPublisher, Ports
    from image_import.models import Image, Task
    from image_import.models.image import ImageMember
    from image_import.settings import Settings

ATTEMPTS = 3  # one publish and two retries; the API call waits for them, so few and short
BACKOFF_SECONDS = 0.05  # before the second attempt; doubled before the third
BATCH_ENTRIES = 10  # EventBridge's PutEvents takes 10 entries: a full batch goes out before the end

Handler = TypeVar("Handler", bound=Callable[..., Any])


class _Batch:
    """The events of one invocation not yet sent, in order, with the bus each is for."""

    def __init__(self) -> None:
        self.waiting: list[tuple[EventPublisher, dict[str, Any]]] = []

    def add(self, events: EventPublisher, message: dict[str, Any]) -> None:
        self.waiting.append((events, message))
        if len(self.waiting) >= BATCH_ENTRIES:  # a long invocation (the sweeper) keeps little unsent
            self.send()

    def send(self) -> None:
        """Everything waiting, in order: each run of events for one bus together."""
        waiting, self.waiting = self.waiting, []
        while waiting:
            events = waiting[0][0]
            run = next((n for n, (bus, _) in enumerate(waiting) if bus != events), len(waiting))
            publish_all([message for _, message in waiting[:run]], events)
            waiting = waiting[run:]


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("notification_batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Hold the events sent inside until the block ends (raising or not), then send them at once.
    A batch inside a batch joins the outer one."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set(_Batch())
    try:
        yield
    finally:
        waiting = _batch.get()
        _batch.reset(token)
        if waiting is not None:
            waiting.send()


def batched(handler: Handler) -> Handler:
    """A Lambda handler whose events go out together when it returns, before Lambda may freeze it."""

    @functools.wraps(handler)
    def invocation(*args: Any, **kwargs: Any) -> Any:
        with batch():
            return handler(*args, **kwargs)

    return invocation  # type: ignore[return-value]


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
    waiting = _batch.get()
    if waiting is None:
        publish_all([message], ports.events)
    else:
        waiting.add(ports.events, message)


def publish_all(messages: list[dict[str, Any]], events: EventPublisher) -> int:
    """Hand ``messages`` to the bus now, in order; entries it refused are tried again (ATTEMPTS in all),
    then logged and counted. Never raises; how many were lost."""
    delay, waiting = BACKOFF_SECONDS, list(messages)
    for attempt in range(1, ATTEMPTS + 1):
        failed = [
            (message, reason) for message, reason in zip(waiting, _refusals(waiting, events), strict=True) if reason
        ]
        if not failed:
            return 0
        waiting = [message for message, _ in failed]
        if attempt < ATTEMPTS:
            time.sleep(delay)
            delay *= 2
    for message, reason in failed:
        _failed(message.get("event_type", "?"), reason, message.get("message_id"))
    return len(failed)


def _refusals(messages: list[dict[str, Any]], events: EventPublisher) -> list[str | None]:
    """Why the bus refused each message (None: taken); a call that fails as a whole refuses them all."""
    try:
        refusals = list(events.publish_all(messages))
        if len(refusals) == len(messages):
            return refusals
        reason = f"the bus answered for {len(refusals)} of {len(messages)} entries"
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
    return [reason] * len(messages)


def _failed(event_type: str, reason: str, message_id: str | None = None, attempts: int = ATTEMPTS) -> None:
    from image_import import metrics
    from image_import.observability import logger

    logger.warning(
        "notification not published",
        extra={"event_type": event_type, "reason": reason, "message_id": message_id, "attempts": attempts},
    )
    metrics.notification_failed(event_type)

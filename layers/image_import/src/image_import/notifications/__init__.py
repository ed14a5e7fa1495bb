"""Lifecycle events: Glance's notifications, published to the stack's EventBridge bus.

The domain calls one of these after the change it reports is stored, one call per change::

    notifications.image_event("image.create", image, ports)
    notifications.member_event("image.member.update", image_id, member_id, member, ports)
    notifications.task_event("task.success", task, ports)

Each builds Glance's payload (``payloads``), checks the operator's switches (``[oslo_messaging_notifications]
driver = noop``, ``[DEFAULT] disabled_notifications``) and hands Glance's envelope to
``ports.events`` (``adapters/events.py``: EventBridge, ``detail-type`` = the event type). A Lambda
handler wrapped in ``batched`` sends its invocation's events together when it ends (PutEvents takes
10 entries a call), in order. Publishing never fails the caller: refused entries are retried a
bounded number of times, then logged and counted (metric ``NotificationsFailed``).
"""

from __future__ import annotations

from image_import.notifications.notifier import (
    batch,
    batched,
    error_event,
    image_event,
    is_enabled,
    member_event,
    publish_all,
    task_event,
)

__all__ = ["batch", "batched", "error_event", "image_event", "is_enabled", "member_event", "publish_all", "task_event"]

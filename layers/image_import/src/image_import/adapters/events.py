"""The stack's EventBridge bus: one PutEvents entry per notification.

``source`` is SOURCE, ``detail-type`` the Glance event type (``image.activate``), ``detail`` Glance's
whole oslo.messaging envelope (``message_id``, ``publisher_id``, ``event_type``, ``priority``,
``payload``, ``timestamp``), so a rule can match ``{"source": ["image-import"], "detail-type":
["image.activate"]}`` and a consumer written for Glance's notifications reads ``detail`` as it is.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

SOURCE = "image-import"
MAX_ENTRY_BYTES = 256 * 1024  # EventBridge's limit for one entry (detail, detail-type, source...)

_lock = threading.Lock()


class PublishFailed(Exception):
    """EventBridge did not take the entry (its error code and message)."""


@functools.cache
def _client() -> Any:
    import boto3
    from botocore.config import Config

    # short timeouts and few retries of its own: the notifier retries, and an API call waits on it
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    with _lock:
        return boto3.client("events", config=config)


def reset_client() -> None:
    _client.cache_clear()


def fit(envelope: dict[str, Any]) -> str:
    """The entry's detail as JSON; an image whose properties would take it past EventBridge's limit
    keeps their names only (``properties_truncated``), so the event still goes out."""
    detail = json.dumps(envelope, separators=(",", ":"), default=str)
    payload = envelope.get("payload")
    if len(detail.encode()) <= MAX_ENTRY_BYTES - 1024 or not isinstance(payload, dict) or "properties" not in payload:
        return detail
    names = dict.fromkeys(payload["properties"], "")
    trimmed = {**envelope, "payload": {**payload, "properties": names, "properties_truncated": True}}
    return json.dumps(trimmed, separators=(",", ":"), default=str)


class EventBus:
    def __init__(self, bus_name: str, source: str = SOURCE):
        self.bus_name, self.source = bus_name, source

    def publish(self, envelope: dict[str, Any]) -> None:
        entry = {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": envelope["event_type"],
            "Detail": fit(envelope),
        }
        answer = _client().put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            [result] = answer["Entries"]
            raise PublishFailed(f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}")

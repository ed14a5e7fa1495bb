"""The stack's EventBridge bus: one PutEvents entry per notification, up to 10 entries a call.

``source`` is SOURCE, ``detail-type`` the Glance event type (``image.activate``), ``detail`` Glance's
whole oslo.messaging envelope (``message_id``, ``publisher_id``, ``event_type``, ``priority``,
``payload``, ``timestamp``), so a rule can match ``{"source": ["image-import"], "detail-type":
["image.activate"]}`` and a consumer written for Glance's notifications reads ``detail`` as it is.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

SOURCE = "image-import"
MAX_ENTRY_BYTES = 256 * 1024  # EventBridge's limit for one entry (detail, detail-type, source...)
MAX_CALL_BYTES = 256 * 1024  # ... and for all the entries of one PutEvents call together
MAX_CALL_ENTRIES = 10  # entries one PutEvents call takes

_lock = threading.Lock()


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


@dataclass(frozen=True)
class EventBus:
    bus_name: str
    source: str = SOURCE

    def publish_all(self, envelopes: Sequence[dict[str, Any]]) -> list[str | None]:
        """Send these in order, in as few PutEvents calls as EventBridge's limits allow. For each, None
        when EventBridge took it, else why not (its error code and message, or the call's exception)."""
        entries = [self._entry(envelope) for envelope in envelopes]
        refusals: list[str | None] = []
        for call in _calls(entries):
            try:
                answer = _client().put_events(Entries=call)
            except Exception as exc:  # this call's entries are refused; the next call may go through
                refusals += [f"{type(exc).__name__}: {exc}"] * len(call)
                continue
            results = answer.get("Entries") or [{}] * len(call)
            refusals += [
                f"{result['ErrorCode']}: {result.get('ErrorMessage')}" if result.get("ErrorCode") else None
                for result in results
            ]
        return refusals

    def _entry(self, envelope: dict[str, Any]) -> dict[str, str]:
        return {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": envelope["event_type"],
            "Detail": fit(envelope),
        }


def entry_size(entry: dict[str, str]) -> int:
    """EventBridge's measure of an entry: the UTF-8 bytes of its source, detail-type and detail."""
    return sum(len(entry[field].encode()) for field in ("Source", "DetailType", "Detail"))


def _calls(entries: list[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    """The entries in order, cut into PutEvents calls of at most MAX_CALL_ENTRIES and MAX_CALL_BYTES."""
    call: list[dict[str, str]] = []
    size = 0
    for entry in entries:
        measure = entry_size(entry)
        if call and (len(call) == MAX_CALL_ENTRIES or size + measure >= MAX_CALL_BYTES):
            yield call
            call, size = [], 0
        call.append(entry)
        size += measure
    if call:
        yield call

"""Keystone token timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")

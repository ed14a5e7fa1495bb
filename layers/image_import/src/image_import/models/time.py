"""Time as the records keep it: UTC ISO 8601 to the second with a 'Z', and how long tasks are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

TASK_TIME_TO_LIVE = timedelta(hours=48)  # Glance's [task] task_time_to_live default
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_stamp(moment: datetime) -> str:
    return moment.strftime(STAMP_FORMAT)


def utcnow() -> str:
    return utc_stamp(datetime.now(UTC))


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def task_expiry(now: datetime | None = None) -> str:
    """When a task that ends ``now`` expires (its ``expires_at``)."""
    return utc_stamp((now or datetime.now(UTC)) + TASK_TIME_TO_LIVE)

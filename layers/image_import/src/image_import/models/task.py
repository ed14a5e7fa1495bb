"""Task records (Glance's ``api_image_import`` tasks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from image_import.models.ids import CanonicalId
from image_import.models.time import TASK_TIME_TO_LIVE, parse_time, utc_stamp

TaskStatus = Literal["pending", "processing", "success", "failure"]
TERMINAL_STATUSES = ("success", "failure")


class Task(BaseModel):
    id: CanonicalId
    type: str = "api_image_import"
    status: TaskStatus = "pending"
    owner: str | None = None
    image_id: CanonicalId
    request_id: str | None = None
    user_id: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    message: str = ""
    created_at: str
    updated_at: str
    expires_at: str | None = None
    version: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expires_at_epoch(self) -> int | None:
        """``expires_at`` in epoch seconds: the tasks table's DynamoDB TTL attribute (stored, never read back).
        DynamoDB deletes expired items only eventually, so reads check ``expired`` themselves."""
        return None if self.expires_at is None else int(parse_time(self.expires_at).timestamp())

    @property
    def list_position(self) -> str:
        """Where a list sorted by ``created_at`` (then ``id``) puts it: the tasks' list indexes' sort key."""
        return f"{self.created_at}#{self.id}"

    @property
    def made_its_image(self) -> bool:
        """A legacy ``import`` task (POST /v2/tasks) created the image it imports: a failure deletes it, as
        Glance's flow does, where an import of the user's own image returns it to where a retry can start."""
        return self.type == "import"

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def fail(self, message: str, now: datetime) -> bool:
        """End the task in ``failure`` with ``message`` (Glance's ``Task.fail``); False, and nothing changed,
        if it has ended already: the first ending is the one it keeps."""
        return self._end("failure", now, message=message)

    def succeed(self, result: dict[str, Any], now: datetime) -> bool:
        """End the task in ``success`` with ``result`` (Glance's ``Task.succeed``); False if it has ended."""
        return self._end("success", now, result=result)

    def _end(self, status: TaskStatus, now: datetime, **fields: Any) -> bool:
        """The one expiry rule: a task expires ``TASK_TIME_TO_LIVE`` after it ended."""
        if self.ended:
            return False
        self.status = status
        for name, value in fields.items():
            setattr(self, name, value)
        self.updated_at = utc_stamp(now)
        self.expires_at = utc_stamp(now + TASK_TIME_TO_LIVE)
        return True

    def expired(self, now: datetime) -> bool:
        """Past its ``expires_at`` (set when the task ended): gone from lists and shows, as in Glance."""
        return self.expires_at is not None and parse_time(self.expires_at) <= now

    def as_image_task(self) -> dict[str, Any]:
        """The raw record shape of ``GET /v2/images/{id}/tasks`` (Glance emits DB rows there)."""
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "owner": self.owner,
            "expires_at": _db_time(self.expires_at),
            "created_at": _db_time(self.created_at),
            "updated_at": _db_time(self.updated_at),
            "deleted_at": None,
            "deleted": False,
            "image_id": self.image_id,
            "request_id": self.request_id,
            "user_id": self.user_id,
            "input": self.input,
            "result": self.result,
            "message": self.message,
        }


def _db_time(stamp: str | None) -> str | None:
    # records keep ISO 8601 with 'Z'; Glance's raw task rows have microseconds and no zone
    if stamp is None:
        return None
    return stamp.rstrip("Z") + ("" if "." in stamp else ".000000")

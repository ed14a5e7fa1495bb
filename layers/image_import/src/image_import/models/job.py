"""The document that travels through the import state machine: ids and keys, never bytes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from image_import.models.context import RequestContext


class StepError(BaseModel):
    """What a Step Functions Catch puts at ``$.error``."""

    Error: str = "States.TaskFailed"
    Cause: str | None = None


class ImportJob(BaseModel):
    image_id: str
    task_id: str
    method: str = "glance-direct"
    context: RequestContext
    # current location of the data in the staging bucket; a plugin that rewrites data updates it
    staging_key: str
    # web-download: the URI the user asked for (checked again before every connection)
    source_uri: str | None = None
    # set by the store step once the store object exists, so revert knows what to remove
    store_key: str | None = None
    # plugins whose execute() finished, so that revert undoes exactly those (in reverse order)
    plugins_done: list[str] = []
    # states that finished (step_handler appends), so a failure is counted against the state it hit
    steps_done: list[str] = []
    # where it failed when no state reported it (the sweeper reverting an execution that was lost)
    failed_step: str | None = None
    error: StepError | None = None

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

"""The document that travels through the import state machine: ids and keys, never bytes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from image_import.models.context import RequestContext

# The states of the import state machine that do the work, in order (render.py builds it from these).
WEB_DOWNLOAD_STATE = "WebDownload"
LEADING_STATES = ("VerifyStaging",)
TRAILING_STATES = ("ImportToStore", "DeleteStaging", "CompleteImport")


def plugin_state(plugin: str) -> str:
    return f"Plugin-{plugin}"


def import_states(method: str, plugins: list[str] | tuple[str, ...]) -> list[str]:
    """The work states an import of ``method`` passes through, in order."""
    leading = [WEB_DOWNLOAD_STATE] if method == "web-download" else []
    return [*leading, *LEADING_STATES, *(plugin_state(p) for p in plugins), *TRAILING_STATES]


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

    def failed_state(self, plugins: list[str] | tuple[str, ...]) -> str:
        """The state this job failed in: the first one of its chain that did not finish."""
        if self.failed_step:
            return self.failed_step
        pending = [s for s in import_states(self.method, plugins) if s not in self.steps_done]
        return pending[0] if pending else "unknown"

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

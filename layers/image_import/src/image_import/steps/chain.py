"""The import state machine's work states, in order: the one list the ASL renderer, the failure
metric and the step handlers share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from image_import.models import ImportJob

WEB_DOWNLOAD_STATE = "WebDownload"
LEADING_STATES = ("VerifyStaging",)
TRAILING_STATES = ("ImportToStore", "CompleteImport")
# After CompleteImport the image is active: a failure in these must never revert it (their Catch
# ends the execution as a success; whatever they leave behind is the sweeper's to remove).
CLEANUP_STATES = ("DeleteStaging",)
# States that move data in passes: the state machine runs each again until its output's flag says
# done (the JSONPath of the flag, and the Choice state that checks it).
PASS_STATES = {
    WEB_DOWNLOAD_STATE: ("$.download.done", "DownloadDone"),
    "ImportToStore": ("$.store_copy.done", "StoreCopyDone"),
}


def plugin_state(plugin: str) -> str:
    return f"Plugin-{plugin}"


def import_states(method: str, plugins: list[str] | tuple[str, ...]) -> list[str]:
    """The work states an import of ``method`` passes through, in order."""
    leading = [WEB_DOWNLOAD_STATE] if method == "web-download" else []
    return [*leading, *LEADING_STATES, *(plugin_state(p) for p in plugins), *TRAILING_STATES, *CLEANUP_STATES]


def failed_state(job: ImportJob, plugins: list[str] | tuple[str, ...]) -> str:
    """The state ``job`` failed in: the first one of its chain that did not finish."""
    if job.failed_step:
        return job.failed_step
    pending = [s for s in import_states(job.method, plugins) if s not in job.steps_done]
    return pending[0] if pending else "unknown"

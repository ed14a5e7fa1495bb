"""The revert that any failed import leads to: nothing half-written, the lock released, and the
image back where the import can be retried. Run by the workflow's revert step and by the sweeper.

What each step wrote is that step's to undo (steps/chain.py, each ``revert`` beside its ``execute``):
this module only walks the steps that ran, then undoes the lock (steps/lock.py) and ends the task.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger

from image_import import metrics
from image_import.adapters.ports import Ports
from image_import.errors import actionable_error_names
from image_import.images import task_outcome
from image_import.models import ImportJob, lifecycle
from image_import.settings import Settings
from image_import.steps import lock
from image_import.steps.actions import ImageActions
from image_import.steps.chain import Chain, build_chain
from image_import.steps.work import record_success

logger = Logger(child=True)


def revert(
    job: ImportJob,
    settings: Settings,
    ports: Ports,
    chain: Chain | None = None,
    failed_in: str | None = None,
    reason: str | None = None,
) -> ImportJob:
    """Undo a failed import: each step that ran reverts what it did, last first (steps/chain.py), then the
    image is released and the task fails saying why.

    ``failed_in``: the state it failed in, when the job cannot say (the sweeper: an execution that was
    lost, so every step may have run); ``reason``: why, when no state's error says it.

    Deliberately friendlier than Glance (which leaves a failed glance-direct image in
    'importing' for good): the image goes back to 'uploading' with its staged data kept, so the
    import can simply be retried; if the staged data is gone it goes back to 'queued'.
    """
    chain = chain or build_chain(settings)
    reason = reason or failure_reason(job)
    if _completed(job, ports):
        logger.warning(
            "failure after the image became active: nothing reverted",
            extra={"image_id": job.image_id, "task_id": job.task_id, "reason": reason},
        )
        return job
    failed_in = chain.failed_state(job, failed_in)
    current = ports.images.get(job.image_id)
    # A step's keys are deterministic, so its revert clears them even when the failing step never reported
    # them (a store step that crashed or timed out after writing). Once a newer import holds the lock the
    # keys may be that import's data: left alone.
    owns_data = current is None or lock.holds(current, job.task_id)
    chain.revert(job, settings, ports, owns_data, chain.ran(job, failed_in))

    message = f"{reason}. {lock.undo(job, ports)}"
    owner = current.owner if current is not None else job.context.project_id
    ImageActions.of(job, ports, settings).release_overruns(owner)
    task_outcome.fail(ports, job.task_id, message, settings=settings)
    logger.warning(
        "import failed",
        extra={"image_id": job.image_id, "task_id": job.task_id, "reason": reason, "failed_step": failed_in},
    )
    metrics.import_failed(job.method, failed_in)
    return job


def _completed(job: ImportJob, ports: Ports) -> bool:
    """Did this import make its image active before the failure? Then an active image is never reverted.

    Its task is a success; or CompleteImport activated the image (releasing the lock) and died before
    writing the task, which is then finished here: an image this import locked can only have become
    active, unlocked, through its own completion while its task is still open (a takeover or the
    sweeper fails the task first).
    """
    task = ports.tasks.get(job.task_id)
    if task is not None and task.status == "success":
        return True
    if task is None or task.ended:
        return False
    image = ports.images.get(job.image_id)
    if image is None or image.status != lifecycle.ACTIVE or image.import_lock is not None:
        return False
    record_success(job, ports)
    return True


def failure_reason(job: ImportJob) -> str:
    """A sentence a person can act on, from the error Step Functions caught."""
    error = job.error
    if error is None:
        return "Import failed"
    if error.Error in ("States.Timeout", "Sandbox.Timedout"):  # a state's TimeoutSeconds, a function's Timeout
        return "Import failed: a step timed out"
    try:
        cause = json.loads(error.Cause or "{}")
    except json.JSONDecodeError:
        cause = {"errorMessage": error.Cause}
    message = cause.get("errorMessage") or error.Error
    if error.Error in actionable_error_names():  # PassInterrupted among them: its retries did not mend it
        return f"Import failed: {message}"
    return f"Import failed due to an internal error ({error.Error}: {message})"

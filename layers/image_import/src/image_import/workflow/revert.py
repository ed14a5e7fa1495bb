"""The revert that any failed import leads to: nothing half-written, the lock released, and the
image back where the import can be retried. Run by the workflow's revert step and by the sweeper.

What each step wrote is that step's to undo (steps/chain.py, each ``revert`` beside its ``execute``):
this module only walks the steps that ran, then releases the image and ends the task.
"""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger

from image_import import metrics, notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, TaskAborted, actionable_error_names
from image_import.images import lifecycle, task_outcome
from image_import.models import Image, ImportJob
from image_import.models.time import utcnow
from image_import.settings import Settings
from image_import.steps.actions import ImageActions
from image_import.steps.chain import Chain, build_chain
from image_import.steps.work import record_success
from image_import.stores.marks import COPY_IMAGE, forget_written_stores

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
    owns_data = current is None or _holds_lock(current, job.task_id)
    chain.revert(job, settings, ports, owns_data, chain.ran(job, failed_in))

    staged = ports.staging.size(job.staging_key) is not None
    task = ports.tasks.get(job.task_id)
    if task is not None and task.made_its_image and _delete_image(job, ports):
        outcome = "The image the task created was deleted."
    else:
        outcome = _restore_image(job, staged, ports)
    message = f"{reason}. {outcome}"
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


def _restore_image(job: ImportJob, staged: bool, ports: Ports) -> str:
    outcome = ""  # what was done, or why the image was left alone: the task's message says it

    def restore(image: Image | None) -> bool:
        nonlocal outcome
        if image is None:
            outcome = "The image was deleted during the import."
            return False
        if image.import_lock is None or image.import_lock.task_id != job.task_id:
            outcome = "The image is held by another import; it was left as it is."
            return False
        restore = image.import_lock.restore or {}  # what a data plugin changed (plugins/base.py)
        image.import_lock, image.arriving = None, 0  # nothing it was writing stays
        for attribute, value in restore.items():
            setattr(image, attribute, value)
        forget_written_stores(image, job)
        if job.method == COPY_IMAGE:
            outcome = f"The image stays active in {', '.join(image.stores)}; nothing was copied."
            image.updated_at = utcnow()
            return True
        image.checksum = image.os_hash_algo = image.os_hash_value = image.virtual_size = None
        image.inspected_as = None
        if staged:
            lifecycle.move(image, "revert", to=lifecycle.UPLOADING)
            outcome = (
                "The image was returned to 'uploading' with its staged data kept, "
                "so the import can be retried without uploading the data again."
            )
        elif job.method == "web-download":
            lifecycle.move(image, "revert", to=lifecycle.QUEUED)
            image.size = None
            outcome = "The image was returned to 'queued' with nothing kept; import it again to retry."
        else:
            lifecycle.move(image, "revert", to=lifecycle.QUEUED)
            image.size, image.staged_key = None, None
            outcome = "No staged data was left, so the image was returned to 'queued'; stage the data again to retry."
        image.updated_at = utcnow()
        return True

    try:
        restored = ports.images.edit(job.image_id, restore, attempts=8)
    except ConcurrentUpdate:
        raise TaskAborted(f"Image {job.image_id} kept changing while the failed import was reverted.") from None
    if restored is not None:
        notifications.image_event("image.update", restored, ports)
    return outcome


def _delete_image(job: ImportJob, ports: Ports) -> bool:
    """Delete the image a legacy import task created, if this import still holds it (else restore it)."""
    image = ports.images.get(job.image_id)
    if image is None or not _holds_lock(image, job.task_id):
        return False
    try:
        ports.images.delete(job.image_id, expected_version=image.version)
    except ConcurrentUpdate:
        return False
    return True


def _holds_lock(image: Image, task_id: str) -> bool:
    return image.import_lock is not None and image.import_lock.task_id == task_id


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

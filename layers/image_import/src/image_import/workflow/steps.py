"""The import workflow's steps, in Glance's order, and the revert that any failure leads to.

verify staging -> plugins (configured order) -> import to store -> delete staging -> complete;
any failure -> revert. Each step takes and returns the workflow document (ids and keys only).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from image_import import metrics
from image_import.adapters.ports import Ports, store_key
from image_import.adapters.records import update_with_retries
from image_import.data.transfer import ParallelHasher, hashed
from image_import.errors import ConcurrentUpdate, ImportFailed, TaskAborted
from image_import.models import Image, ImportJob, Task
from image_import.models.image import utcnow
from image_import.plugins.base import PluginJob
from image_import.plugins.registry import plugin_for
from image_import.settings import Settings
from image_import.workflow.actions import ImageActions
from image_import.workflow.chain import failed_state
from image_import.workflow.progress import Progress

logger = Logger(child=True)

TASK_TIME_TO_LIVE = timedelta(hours=48)  # Glance's [task] task_time_to_live default


def verify_staging(job: ImportJob, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)
    image = actions.current()
    _update_task(ports, job.task_id, lambda t: setattr(t, "status", "processing"))
    staged = ports.staging.size(job.staging_key)
    if staged is None:
        raise ImportFailed(f"No staged data found for image {job.image_id}")
    if image.size is not None and image.size != staged:
        raise ImportFailed(f"Image size mismatch. Expected {image.size} but got {staged}")
    return job


def set_processing(job: ImportJob, ports: Ports) -> None:
    """The first step of an import marks its task 'processing'."""
    _update_task(ports, job.task_id, lambda t: setattr(t, "status", "processing"))


def run_plugin(name: str, job: ImportJob, settings: Settings, ports: Ports) -> ImportJob:
    plugin = plugin_for(name, settings)
    plugin.execute(_plugin_job(job, ports))
    return job.model_copy(update={"plugins_done": [*job.plugins_done, name]})


def import_to_store(job: ImportJob, settings: Settings, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)
    actions.current()  # fail fast if the image is gone or the lock was lost
    key = store_key(job.image_id)
    job = job.model_copy(update={"store_key": key})  # revert removes it whatever happens below
    hasher = ParallelHasher(settings.hashing_algorithm)
    try:
        progress = Progress(ports, job.task_id)
        chunks = progress.track(ports.staging.chunks(job.staging_key))
        ports.store.write(key, hashed(chunks, hasher, settings.image_size_cap))
        digests = hasher.finish()
    except BaseException:
        hasher.close()
        ports.store.delete(key)
        raise

    def record(image: Image) -> None:
        for attribute, value in (
            ("size", digests.size),
            ("checksum", digests.checksum),
            ("os_hash_value", digests.hash_value),
        ):
            current = getattr(image, attribute)
            if current is not None and current != value:
                raise ImportFailed(f"{attribute} of uploaded data is different from current value set on the image.")
        image.size, image.checksum = digests.size, digests.checksum
        image.os_hash_algo, image.os_hash_value = digests.hash_algo, digests.hash_value

    try:
        actions.apply(record)
    except ImportFailed:
        ports.store.delete(key)
        raise
    return job


def delete_staging(job: ImportJob, ports: Ports) -> ImportJob:
    ports.staging.delete(job.staging_key)
    return job


def complete(job: ImportJob, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)

    activated: list[Image] = []

    def activate(image: Image) -> None:
        if image.checksum is None:
            raise ImportFailed("None of the uploads finished!")
        image.status = "active"
        image.import_lock = None
        activated[:] = [image]

    actions.apply(activate)

    def succeed(task: Task) -> None:
        task.status, task.result = "success", {"image_id": job.image_id}
        task.expires_at = _expiry()

    _update_task(ports, job.task_id, succeed)
    metrics.import_succeeded(job.method, activated[0].size or 0)
    return job


def revert(job: ImportJob, plugin_names: list[str] | tuple[str, ...], settings: Settings, ports: Ports) -> ImportJob:
    """Undo a failed import: nothing half-written, the lock released, the image never left 'importing'.

    Deliberately friendlier than Glance (which leaves a failed glance-direct image in
    'importing' for good): the image goes back to 'uploading' with its staged data kept, so the
    import can simply be retried; if the staged data is gone it goes back to 'queued'.
    """
    reason = failure_reason(job)
    for name in reversed(job.plugins_done):
        if name in plugin_names:
            try:
                plugin_for(name, settings).revert(_plugin_job(job, ports))
            except Exception:  # one plugin's failed revert must not stop the others
                logger.exception("plugin revert failed", extra={"plugin": name, "task_id": job.task_id})
    current = ports.images.get(job.image_id)
    if current is None or _holds_lock(current, job.task_id):
        # The key is deterministic, so revert clears it even when the failing step never reported it
        # (a store step that crashed or timed out after writing). Once a newer import holds the lock
        # the key may be that import's data: left alone.
        ports.store.delete(job.store_key or store_key(job.image_id))
        if job.method == "web-download":
            ports.staging.delete(job.staging_key)  # a web-download keeps nothing: retry downloads again

    staged = ports.staging.size(job.staging_key) is not None
    outcome = _restore_image(job, staged, ports)
    message = f"{reason}. {outcome}"

    def fail(task: Task) -> None:
        task.status, task.message, task.expires_at = "failure", message, _expiry()

    _update_task(ports, job.task_id, fail)
    failed_in = failed_state(job, plugin_names)
    logger.warning(
        "import failed",
        extra={"image_id": job.image_id, "task_id": job.task_id, "reason": reason, "failed_step": failed_in},
    )
    metrics.import_failed(job.method, failed_in)
    return job


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
        image.import_lock = None
        image.checksum = image.os_hash_algo = image.os_hash_value = None
        if staged:
            image.status = "uploading"
            outcome = (
                "The image was returned to 'uploading' with its staged data kept, "
                "so the import can be retried without uploading the data again."
            )
        elif job.method == "web-download":
            image.status, image.size = "queued", None
            outcome = "The image was returned to 'queued' with nothing kept; import it again to retry."
        else:
            image.status, image.size, image.staged_key = "queued", None, None
            outcome = "No staged data was left, so the image was returned to 'queued'; stage the data again to retry."
        image.updated_at = utcnow()
        return True

    try:
        update_with_retries(ports.images, job.image_id, restore, attempts=8)
    except ConcurrentUpdate:
        raise TaskAborted(f"Image {job.image_id} kept changing while the failed import was reverted.") from None
    return outcome


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
    if error.Error in ("ImportFailed", "TaskAborted"):
        return f"Import failed: {message}"
    return f"Import failed due to an internal error ({error.Error}: {message})"


def _plugin_job(job: ImportJob, ports: Ports) -> PluginJob:
    return PluginJob(
        task_id=job.task_id,
        method=job.method,
        context=job.context,
        staging_key=job.staging_key,
        actions=ImageActions(ports, job.image_id, job.task_id),
    )


def _expiry() -> str:
    return (datetime.now(UTC) + TASK_TIME_TO_LIVE).strftime("%Y-%m-%dT%H:%M:%SZ")


def _update_task(ports: Ports, task_id: str, change) -> None:
    def edit(task: Task | None) -> bool:
        if task is None:
            raise TaskAborted(f"Task {task_id} does not exist")
        change(task)
        task.updated_at = utcnow()
        return True

    try:
        update_with_retries(ports.tasks, task_id, edit, attempts=8)
    except ConcurrentUpdate:
        raise TaskAborted(f"Task {task_id} kept changing; giving up") from None

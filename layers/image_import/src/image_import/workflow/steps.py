"""The import workflow's steps, in Glance's order.

verify staging -> plugins (configured order) -> import to store -> complete -> delete staging;
any failure before the image is active -> revert (workflow/revert.py). Staging is deleted only
once the image is active, so a failed completion still has the staged data a retry needs. Each step takes and returns the workflow document
(ids and keys only).
"""

from __future__ import annotations

from image_import import metrics
from image_import.adapters.ports import Ports
from image_import.data.hashing import ParallelHasher, hashed
from image_import.data.inspection import FormatCheck, FormatOptions, inspected
from image_import.data.layout import store_key
from image_import.errors import ConcurrentUpdate, ImportFailed, TaskAborted
from image_import.images import lifecycle
from image_import.models import Image, ImportJob, Task
from image_import.models.time import task_expiry, utcnow
from image_import.plugins.base import PluginJob
from image_import.plugins.registry import plugin_for
from image_import.settings import Settings
from image_import.workflow.actions import ImageActions
from image_import.workflow.progress import Progress


def verify_staging(job: ImportJob, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)
    image = actions.current()
    update_task(ports, job.task_id, lambda t: setattr(t, "status", "processing"))
    staged = ports.staging.size(job.staging_key)
    if staged is None:
        raise ImportFailed(f"No staged data found for image {job.image_id}")
    if image.size is not None and image.size != staged:
        raise ImportFailed(f"Image size mismatch. Expected {image.size} but got {staged}")
    return job


def set_processing(job: ImportJob, ports: Ports) -> None:
    """The first step of an import marks its task 'processing'."""
    update_task(ports, job.task_id, lambda t: setattr(t, "status", "processing"))


def run_plugin(name: str, job: ImportJob, settings: Settings, ports: Ports) -> ImportJob:
    plugin = plugin_for(name, settings)
    plugin.execute(plugin_job(job, ports))
    return job.model_copy(update={"plugins_done": [*job.plugins_done, name]})


def import_to_store(job: ImportJob, settings: Settings, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)
    image = actions.current()  # fail fast if the image is gone or the lock was lost
    key = store_key(job.image_id)
    job = job.model_copy(update={"store_key": key})  # revert removes it whatever happens below
    # a web-download's validation_data may name another algorithm: Glance then hashes and records that one
    hasher = ParallelHasher(image.os_hash_algo or settings.hashing_algorithm)
    # what the data is, checked in the same single read that hashes and stores it
    check = FormatCheck(image.disk_format, image.container_format, FormatOptions.of(settings))
    try:
        progress = Progress(ports, job.task_id)
        chunks = progress.track(ports.staging.chunks(job.staging_key))
        ports.store.write(key, hashed(inspected(chunks, check), hasher, settings.image_size_cap))
        digests = hasher.finish()
        virtual_size = check.verdict()
    except BaseException:
        hasher.close()
        ports.store.delete(key)
        raise

    def record(image: Image) -> None:
        if (image.disk_format, image.container_format) != (check.disk_format or None, check.container_format):
            raise ImportFailed("disk_format or container_format changed during the import; import the image again")
        for attribute, value in (
            ("size", digests.size),
            ("checksum", digests.checksum),
            ("os_hash_value", digests.hash_value),
        ):
            current = getattr(image, attribute)
            if current is not None and current != value and attribute == "os_hash_value":
                raise ImportFailed(
                    f"os_hash_value: ({current}) not matched with actual {digests.hash_algo} os_hash_value: ({value})"
                )
            if current is not None and current != value:
                raise ImportFailed(f"{attribute} of uploaded data is different from current value set on the image.")
        image.size, image.checksum = digests.size, digests.checksum
        image.os_hash_algo, image.os_hash_value = digests.hash_algo, digests.hash_value
        image.virtual_size = virtual_size

    try:
        actions.apply(record)
    except ImportFailed:
        ports.store.delete(key)
        raise
    return job


def delete_staging(job: ImportJob, ports: Ports) -> ImportJob:
    """Cleanup after completion: a failure here leaves the image active (the sweeper removes the residue)."""
    ports.staging.delete(job.staging_key)
    return job


def complete(job: ImportJob, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)

    activated: list[Image] = []

    def activate(image: Image) -> None:
        if image.checksum is None:
            raise ImportFailed("None of the uploads finished!")
        lifecycle.move(image, "activate")
        image.import_lock = None
        activated[:] = [image]

    actions.apply(activate)
    record_success(job, ports)
    metrics.import_succeeded(job.method, activated[0].size or 0)
    return job


def record_success(job: ImportJob, ports: Ports) -> None:
    """The task of an import whose image is active: success."""

    def succeed(task: Task) -> None:
        task.status, task.result = "success", {"image_id": job.image_id}
        task.expires_at = task_expiry()

    update_task(ports, job.task_id, succeed)


def plugin_job(job: ImportJob, ports: Ports) -> PluginJob:
    return PluginJob(
        task_id=job.task_id,
        method=job.method,
        context=job.context,
        staging_key=job.staging_key,
        actions=ImageActions(ports, job.image_id, job.task_id),
    )


def update_task(ports: Ports, task_id: str, change) -> None:
    def edit(task: Task | None) -> bool:
        if task is None:
            raise TaskAborted(f"Task {task_id} does not exist")
        change(task)
        task.updated_at = utcnow()
        return True

    try:
        ports.tasks.edit(task_id, edit, attempts=8)
    except ConcurrentUpdate:
        raise TaskAborted(f"Task {task_id} kept changing; giving up") from None

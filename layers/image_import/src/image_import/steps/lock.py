"""The undo of the import lock ``start_import`` took (workflow/start.py), which is no state of the machine:
the image goes back where a retry starts, or, for a legacy task's own image, is deleted. The revert runs
it once the chain's steps have reverted theirs (steps/chain.py).
"""

from __future__ import annotations

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, TaskAborted
from image_import.models import Image, ImportJob, lifecycle
from image_import.models.time import utcnow
from image_import.stores.marks import COPY_IMAGE, forget_written_stores


def undo(job: ImportJob, ports: Ports) -> str:
    """Release the image this import locked; what was done, as the task's message says it."""
    staged = ports.staging.size(job.staging_key) is not None
    task = ports.tasks.get(job.task_id)
    if task is not None and task.made_its_image and _delete_image(job, ports):
        return "The image the task created was deleted."
    return _restore_image(job, staged, ports)


def holds(image: Image, task_id: str) -> bool:
    """Whether ``task_id``'s import still holds the image's lock."""
    return image.import_lock is not None and image.import_lock.task_id == task_id


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
    if image is None or not holds(image, job.task_id):
        return False
    try:
        ports.images.delete(job.image_id, expected_version=image.version)
    except ConcurrentUpdate:
        return False
    return True

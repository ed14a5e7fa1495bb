"""The one way an import step changes an image.

Each change re-reads the image, checks that this task still holds the import lock, applies the
change and writes it conditionally on the version it read (retrying on a concurrent writer).
A deleted image or a lost lock aborts the step.
"""

from __future__ import annotations

from collections.abc import Callable

from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, TaskAborted
from image_import.models import Image
from image_import.models.time import utcnow

RESERVED_PREFIX = "os_glance"
ATTEMPTS = 8


class ImageActions:
    def __init__(self, ports: Ports, image_id: str, task_id: str):
        self.ports, self.image_id, self.task_id = ports, image_id, task_id

    def current(self) -> Image:
        return self._held(self.ports.images.get(self.image_id))

    def _held(self, image: Image | None) -> Image:
        """The image, if it still exists and this task still holds its lock; else the step aborts."""
        if image is None:
            raise TaskAborted("Image has been deleted, aborting import.")
        if image.import_lock is None or image.import_lock.task_id != self.task_id:
            raise TaskAborted("Image import lock is no longer held by this task, aborting import.")
        return image

    def apply(self, change: Callable[[Image], None]) -> Image:
        def changed(image: Image | None) -> bool:
            change(self._held(image))
            image.updated_at = utcnow()
            return True

        try:
            return self.ports.images.edit(self.image_id, changed, attempts=ATTEMPTS)
        except ConcurrentUpdate:
            raise TaskAborted(
                f"Image {self.image_id} kept changing under the import; giving up after {ATTEMPTS} attempts."
            ) from None

    def set_extra_properties(self, properties: dict[str, str]) -> Image:
        """Service-set extra properties; the reserved os_glance namespace is never written this way."""
        allowed = {k: str(v) for k, v in properties.items() if not k.startswith(RESERVED_PREFIX)}
        return self.apply(lambda image: image.properties.update(allowed))

"""The one way an import step changes an image.

Each change re-reads the image, checks that this task still holds the import lock, applies the
change and writes it conditionally on the version it read (retrying on a concurrent writer).
A deleted image or a lost lock aborts the step. With ``settings``, a change that adds bytes to the
owner's usage claims them in the same write (quotas/growth.py): over the limit, the import fails.
"""

from __future__ import annotations

from collections.abc import Callable

from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, ImportFailed, TaskAborted
from image_import.models import Image, ImportJob
from image_import.models.quota import Claim, OverLimit
from image_import.models.time import utcnow
from image_import.settings import Settings

RESERVED_PREFIX = "os_glance"
ATTEMPTS = 8


class ImageActions:
    def __init__(
        self,
        ports: Ports,
        image_id: str,
        task_id: str,
        settings: Settings | None = None,
        limits: dict[str, int] | None = None,
    ):
        """``settings``: claim the bytes a change adds against ``limits`` (the owner's, as the import's
        admission read them: ImportJob.limits)."""
        self.ports, self.image_id, self.task_id, self.settings = ports, image_id, task_id, settings
        self.limits = limits
        self._claims: list[Claim] | None = None
        self._owner: str | None = None

    @classmethod
    def of(cls, job: ImportJob, ports: Ports, settings: Settings | None = None) -> ImageActions:
        """The actions of ``job``'s import (its image, task and the limits it was admitted under)."""
        return cls(ports, job.image_id, job.task_id, settings, job.limits)

    def current(self) -> Image:
        image = self._held(self.ports.images.get(self.image_id))
        self._owner = image.owner  # whose limits a change claims against, without reading the image again
        return image

    def _held(self, image: Image | None) -> Image:
        """The image, if it still exists and this task still holds its lock; else the step aborts."""
        if image is None:
            raise TaskAborted("Image has been deleted, aborting import.")
        if image.import_lock is None or image.import_lock.task_id != self.task_id:
            raise TaskAborted("Image import lock is no longer held by this task, aborting import.")
        return image

    def apply(self, change: Callable[[Image], None]) -> Image:
        claims = self._growth_claims()
        if not claims:
            return self._apply(change, [])
        try:
            return self._apply(change, claims)
        except OverLimit:
            pass  # over the limit: only as the project's one operation past it
        from image_import.quotas import admission, growth

        past = [claim.overrunning(self.task_id) for claim in claims]
        for attempt in range(2):
            try:
                return self._apply(change, past)
            except OverLimit as over:
                if attempt or not growth.free_stale_slots(self.ports, over, self.task_id):
                    raise ImportFailed(admission.message(over)) from None
        raise AssertionError("unreachable")

    def _apply(self, change: Callable[[Image], None], claims: list[Claim]) -> Image:
        def changed(image: Image | None) -> bool:
            change(self._held(image))
            image.updated_at = utcnow()
            return True

        try:
            return self.ports.images.edit(self.image_id, changed, attempts=ATTEMPTS, claims=claims)
        except ConcurrentUpdate:
            raise TaskAborted(
                f"Image {self.image_id} kept changing under the import; giving up after {ATTEMPTS} attempts."
            ) from None

    @property
    def counts_bytes(self) -> bool:
        """Whether the bytes a step writes are claimed as they arrive: quotas are on and the import carries
        the limits it was admitted under (a document from before it did: nothing is claimed)."""
        return self.settings is not None and self.settings.quotas_enabled and self.limits is not None

    def _growth_claims(self) -> list[Claim]:
        if not self.counts_bytes:
            return []
        if self._claims is None:
            from image_import.quotas import growth

            owner = self._owner if self._owner is not None else self.current().owner
            self._claims = growth.claims(self.settings, owner, (owner, self.limits)) if owner and self.limits else []
        return self._claims

    def release_overruns(self, owner: str | None) -> None:
        """The import is over (completed or reverted): the overrun slots it holds are free."""
        if self.settings is not None:
            from image_import.quotas import growth

            growth.release(self.settings, self.ports, owner, self.task_id)

    def set_extra_properties(self, properties: dict[str, str]) -> Image:
        """Service-set extra properties; the reserved os_glance namespace is never written this way."""
        allowed = {k: str(v) for k, v in properties.items() if not k.startswith(RESERVED_PREFIX)}
        return self.apply(lambda image: image.properties.update(allowed))

"""PUT /v2/images/{id}/stage: an image's data into staging for a glance-direct import.

queued -> uploading, the data streamed to ``staging/<id>`` within the size cap, size recorded.
Any failure removes what was written and puts the image back to queued.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, ConcurrentUpdate, Conflict, RequestEntityTooLarge
from image_import.images.catalog import get_image
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.quota import IMAGE_STAGE_TOTAL, OverLimit
from image_import.models.time import utcnow
from image_import.policy import access, preconditions
from image_import.quotas import admission, claims, growth
from image_import.quotas.admission import in_mib
from image_import.settings import Settings
from image_import.transfer.layout import staging_key
from image_import.transfer.parts import part_size_for

DECIMAL = re.compile(r"[0-9]+")  # ASCII only: str.isdigit and int() accept other scripts' digits too


def stage_image(
    context: RequestContext,
    image_id: str,
    data: Iterable[bytes],
    declared_size: str | None,
    settings: Settings,
    ports: Ports,
) -> Image:
    """Put an image's data in staging (glance-direct): queued -> uploading, size recorded."""
    preconditions.require_available(preconditions.STAGE, settings)
    expected_size = declared_image_size(declared_size)
    if expected_size is not None and expected_size > settings.image_size_cap:
        raise RequestEntityTooLarge(
            f"Image exceeds the storage quota: the size cap is {settings.image_size_cap} bytes."
        )
    # Glance checks the staging it announces before anything else
    known = admission.precheck(settings, ports.usage, context.project_id, (IMAGE_STAGE_TOTAL, in_mib(expected_size)))
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "modify_image", image, settings)  # Glance has no separate stage rule
    preconditions.check(preconditions.STAGE, image)
    key = staging_key(image_id)
    if ports.staging.size(key) is not None:
        raise Conflict(f"The image {image_id} has data on staging")
    # Claim the image first, so two concurrent uploads cannot both write staging.
    lifecycle.move(image, "stage")
    image.updated_at = utcnow()

    def claim() -> None:
        try:
            ports.images.save(image, claims=admission.for_stage(settings, image.owner, expected_size, known))
        except ConcurrentUpdate:
            raise Conflict(f"Image {image_id} was changed by another request; data not staged.") from None
        except OverLimit as over:
            raise admission.too_large(over) from None
        notifications.image_event("image.update", image, ports, settings)

    def write() -> Image:
        # a stream of unknown length: the smallest parts (a few in memory), larger for a declared size that needs it
        part_size = part_size_for(expected_size or 0)
        size = ports.staging.write(key, _capped(data, settings.image_size_cap), part_size=part_size)
        if expected_size is not None and size != expected_size:
            raise BadRequest(
                f"Size of the staged data ({size} bytes) does not match x-openstack-image-size ({expected_size})."
            )
        image.size, image.staged_key = size, key
        image.updated_at = utcnow()
        ports.images.save(image, claims=growth.finishing(settings, image.owner, known))
        return image

    def give_back(error: BaseException) -> None:
        _unstage(image_id, ports)
        if isinstance(error, OverLimit):  # its bytes came to more than the limit lets another upload add
            raise admission.too_large(error) from None

    claims.claimed(claim, write, give_back)
    notifications.image_event("image.update", image, ports, settings)
    return image


def declared_image_size(header: str | None) -> int | None:
    """The size a client announced in ``x-openstack-image-size`` (stage and upload), None if it sent none.

    Decimal digits only, checked before the quota precheck and before any byte is written: a negative
    size would take that much off the usage the precheck compares with the limit (an over-quota project
    would get in), and Python's ``int`` also takes a sign, ``_`` and non-ASCII digits."""
    if header is None:
        return None
    if not DECIMAL.fullmatch(header.strip()):
        raise BadRequest(f"x-openstack-image-size must be a non-negative integer, got {header!r}")
    return int(header)


def _capped(data: Iterable[bytes], cap: int) -> Iterator[bytes]:
    total = 0
    for chunk in data:
        total += len(chunk)
        if total > cap:
            raise RequestEntityTooLarge(f"Image exceeds the storage quota: the size cap is {cap} bytes.")
        yield chunk


def _unstage(image_id: str, ports: Ports) -> None:
    """Undo a failed stage: no data left in staging, image back to queued (if it still exists)."""
    ports.staging.delete(staging_key(image_id))

    def back_to_queued(image: Image | None) -> bool:
        if image is None or image.status != lifecycle.UPLOADING:
            return False
        lifecycle.move(image, "unstage")
        image.size, image.staged_key, image.updated_at = None, None, utcnow()
        return True

    # best effort: the stage's own error is what the client must see
    with contextlib.suppress(ConcurrentUpdate):
        ports.images.edit(image_id, back_to_queued, attempts=5)

"""PUT /v2/images/{id}/file: Glance's classic upload (no import, no plugins), within the API's size limit.

queued -> saving -> active, streamed once into the store computing size, MD5 and the multihash,
and inspected on the way (transfer/inspection.py: data that is not its disk_format, or unsafe, is 415).
Any failure removes what was written and puts the image back to queued.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    ImportFailed,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from image_import.images.catalog import get_image
from image_import.intake.stage import declared_image_size
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.quota import IMAGE_SIZE_TOTAL, OverLimit
from image_import.models.time import utcnow
from image_import.policy import access, preconditions
from image_import.quotas import admission, claims, growth
from image_import.quotas.admission import in_mib
from image_import.settings import Settings
from image_import.stores.buckets import bucket_of
from image_import.transfer.hashing import ParallelHasher, hashed
from image_import.transfer.inspection import FormatCheck, FormatOptions, InvalidImageData, inspected
from image_import.transfer.layout import store_key
from image_import.transfer.parts import part_size_for


def upload_image(
    context: RequestContext,
    image_id: str,
    data: Iterable[bytes],
    declared_size: str | None,
    settings: Settings,
    ports: Ports,
    store_header: str | None = None,
) -> Image:
    """``store_header``: ``X-Image-Meta-Store`` (multi-store: the store to write; default: the default store)."""
    store_id = None
    if settings.multi_store:  # Glance checks the store first: 400 for one that is not configured
        store_id = store_header if store_header is not None else settings.default_backend
        if store_id is None or settings.store(store_id) is None:
            raise BadRequest(f"Store for identifier {store_id} not found")
    store = bucket_of(store_id, settings, ports)
    expected = declared_image_size(declared_size)
    # Glance checks the store space it announces before it looks the image up
    known = admission.precheck(settings, ports.usage, context.project_id, (IMAGE_SIZE_TOTAL, in_mib(expected)))
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "upload_image", image, settings)
    preconditions.check(preconditions.UPLOAD, image)  # 'queued', then formats
    lifecycle.move(image, "save")
    image.updated_at = utcnow()

    def claim() -> None:
        try:
            ports.images.save(image, claims=admission.for_upload(settings, image.owner, expected, known))
        except ConcurrentUpdate:
            raise Conflict(f"Image {image_id} was changed by another request; data not uploaded.") from None
        except OverLimit as over:
            raise admission.too_large(over) from None
        notifications.image_event("image.update", image, ports, settings)
        notifications.image_event("image.prepare", image, ports, settings, with_import=True)

    key = store_key(image_id)
    hasher = ParallelHasher(settings.hashing_algorithm)
    check = FormatCheck(image.disk_format, image.container_format, FormatOptions.of(settings))

    def write() -> None:
        part_size = part_size_for(expected or 0)  # as a stage: the smallest parts, unless the declared size needs more
        store.write(key, hashed(inspected(data, check), hasher, settings.image_size_cap), part_size=part_size)
        digests = hasher.finish()
        if expected is not None and digests.size != expected:
            raise BadRequest(
                f"Size of the uploaded data ({digests.size}) does not match x-openstack-image-size ({expected})."
            )
        image.virtual_size = check.verdict()
        image.inspected_as = image.formats()  # saved conditionally: no format can have changed since the read
        lifecycle.move(image, "saved")
        image.size, image.checksum = digests.size, digests.checksum
        image.os_hash_algo, image.os_hash_value, image.updated_at = digests.hash_algo, digests.hash_value, utcnow()
        if store_id is not None:
            image.stores = [store_id]
        ports.images.save(image, claims=growth.finishing(settings, image.owner, known))

    def give_back(exc: BaseException) -> None:
        notifications.error_event(
            "image.upload", f"Failed to upload image data for image {image_id}: {exc}", ports, settings
        )
        hasher.close()
        store.delete(key)
        _back_to_queued(image_id, ports)
        if isinstance(exc, InvalidImageData):  # Glance answers 415 when the data is not what it claims
            raise UnsupportedMediaType(str(exc)) from None
        if isinstance(exc, ImportFailed):  # the size cap, raised while streaming
            raise RequestEntityTooLarge(str(exc)) from None
        if isinstance(exc, OverLimit):  # its bytes came to more than the limit lets another upload add
            raise admission.too_large(exc) from None
        if isinstance(exc, ConcurrentUpdate):
            raise Conflict(f"Image {image_id} was changed or deleted during the upload.") from None

    claims.claimed(claim, write, give_back)
    for event_type in ("image.upload", "image.activate", "image.update"):  # Glance's order after a good upload
        notifications.image_event(event_type, image, ports, settings, with_import=event_type == "image.upload")
    return image


def _back_to_queued(image_id: str, ports: Ports) -> None:
    def reset_to_queued(image: Image | None) -> bool:
        if image is None or image.status != lifecycle.SAVING:
            return False
        lifecycle.move(image, "unsave")
        image.size, image.checksum, image.os_hash_algo, image.os_hash_value = None, None, None, None
        image.virtual_size, image.inspected_as = None, None
        image.updated_at = utcnow()
        return True

    # best effort: the upload's own error is what the client must see
    with contextlib.suppress(ConcurrentUpdate):
        ports.images.edit(image_id, reset_to_queued, attempts=5)

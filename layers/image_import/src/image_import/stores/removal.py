"""``DELETE /v2/stores/{store_id}/{image_id}``: an active image leaves one of its stores, never its last one
(glance/api/v2/images.py delete_from_store, in its order and words)."""

from __future__ import annotations

from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, Conflict, Forbidden, NotFound
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.settings import Settings
from image_import.stores import marks
from image_import.stores.buckets import bucket_of
from image_import.transfer.layout import store_key

LAST_STORE = "Cannot delete image data from the only store containing it. Consider deleting the image instead."


def delete_from_store(context: RequestContext, store_id: str, image_id: str, settings: Settings, ports: Ports) -> None:
    if not settings.multi_store:
        raise NotFound("The resource could not be found.")
    if settings.store(store_id) is None:
        raise Conflict(f"The selected store {store_id} is not available on this node.")
    image = ports.images.get(image_id)
    if image is None or not access.can_see(context, image, settings):
        raise NotFound(f"Failed to find image {image_id}")
    access.authorize(context, "get_image_location", image, settings)
    access.authorize(context, "delete_image_location", image, settings)

    def remove(current: Image | None) -> bool:
        if current is None:
            raise NotFound(f"Failed to find image {image_id}")
        _check(current, store_id)
        marks.store_removed(current, store_id)
        current.updated_at = utcnow()
        return True

    try:
        ports.images.edit(image_id, remove, attempts=5)  # conditional: a concurrent copy or delete is seen
    except ConcurrentUpdate:
        raise Conflict(f"Image {image_id} is changing; try again") from None
    # the record no longer points at the data: removing it now cannot take away what anyone may read
    bucket_of(store_id, settings, ports).delete(store_key(image_id))


def _check(image: Image, store_id: str) -> None:
    if image.status != lifecycle.ACTIVE:
        raise Conflict("It's not allowed to remove image data from store if image status is not 'active'")
    if len(image.stores) <= 1:
        raise Forbidden(LAST_STORE)
    if store_id not in image.stores:
        raise NotFound(f"Image {image.id} is not stored in store {store_id}.")

"""PUT / DELETE /v2/images/{id}/tags/{tag}: one tag at a time, as Glance (policy modify_image)."""

from __future__ import annotations

from collections.abc import Callable

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, ConcurrentUpdate, Conflict, NotFound
from image_import.images.catalog import check_tag_quota
from image_import.models import Image, RequestContext
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.settings import Settings

MAX_TAG_LENGTH = 255  # the image schema's maxLength for a tag


def add_tag(context: RequestContext, image_id: str, tag: str, settings: Settings, ports: Ports) -> None:
    if not tag or len(tag) > MAX_TAG_LENGTH:
        raise BadRequest(f"Image tag must be 1 to {MAX_TAG_LENGTH} characters long.")

    def add(image: Image) -> None:
        tags = sorted({*(image.tags or []), tag})
        check_tag_quota(tags, settings)
        image.tags = tags

    _change(context, image_id, add, settings, ports)


def delete_tag(context: RequestContext, image_id: str, tag: str, settings: Settings, ports: Ports) -> None:
    def remove(image: Image) -> None:
        if tag not in (image.tags or []):
            raise NotFound(f"Tag {tag} not found")
        image.tags = [t for t in image.tags if t != tag]

    _change(context, image_id, remove, settings, ports)


def _change(
    context: RequestContext, image_id: str, change: Callable[[Image], None], settings: Settings, ports: Ports
) -> None:
    def tagged(image: Image | None) -> bool:
        image = access.require_visible(context, image, image_id, settings)
        access.authorize(context, "modify_image", image, settings)
        change(image)
        image.updated_at = utcnow()
        return True

    try:
        image = ports.images.edit(image_id, tagged, attempts=5)  # a concurrent change is re-read, re-checked
    except ConcurrentUpdate:
        raise Conflict(f"Image {image_id} kept changing; the tag was not changed.") from None
    if image is not None:  # tagged() always saves
        notifications.image_event("image.update", image, ports, settings)

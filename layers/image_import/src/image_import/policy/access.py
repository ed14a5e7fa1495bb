"""Access rules: owner-or-admin, with Glance's 404-versus-403 distinction.

A caller who may not see an image gets 404 (its existence stays hidden); one who may see it but
not change it gets 403.
"""

from __future__ import annotations

from image_import.errors import Forbidden, ImageNotFound
from image_import.models import Image, RequestContext


def can_see(context: RequestContext, image: Image) -> bool:
    return (
        context.is_admin
        or (image.owner is not None and image.owner == context.project_id)
        or image.visibility in ("public", "community")
    )


def can_modify(context: RequestContext, image: Image) -> bool:
    return context.is_admin or (image.owner is not None and image.owner == context.project_id)


def require_visible(context: RequestContext, image: Image | None, image_id: str) -> Image:
    if image is None or not can_see(context, image):
        raise ImageNotFound(image_id)
    return image


def require_modifiable(context: RequestContext, image: Image, action: str) -> None:
    if not can_modify(context, image):
        raise Forbidden(f"You are not permitted to {action} this image.")


def require_may_create(context: RequestContext, owner: str | None, visibility: str) -> None:
    if not context.is_admin and owner != context.project_id:
        raise Forbidden(f"You are not permitted to create images owned by '{owner}'.")
    if visibility == "public" and not context.is_admin:
        raise Forbidden("You are not authorized to complete publicize_image action.")

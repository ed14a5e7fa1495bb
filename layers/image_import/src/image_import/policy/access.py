"""Who may do what to an image: data-layer visibility, then Glance's policy rules.

As Glance: a caller who may not see an image gets 404 (its existence stays hidden); one who may
see it but not perform the action gets 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from image_import.errors import Forbidden, ImageNotFound
from image_import.models import Image, RequestContext
from image_import.policy.rules import engine, image_target

if TYPE_CHECKING:
    from image_import.settings import Settings

MEMBER_STATUSES = ("pending", "accepted", "rejected")


def _stored_visibility(context: RequestContext, image: Image, member_status: str | None = None) -> bool:
    """What Glance's database layer returns at all (before any policy).

    A shared image is also returned to its members: for show, download and the member calls with any
    membership status (``member_status=None``); for a list, only with the requested ``member_status``
    (``all`` for any). Members of an image that is no longer ``shared`` see nothing of it.
    """
    if context.is_admin or image.visibility in ("public", "community"):
        return True
    if context.project_id is not None and image.owner == context.project_id:
        return True
    return image.visibility == "shared" and is_member(image, context.project_id, member_status)


def is_member(image: Image, project_id: str | None, member_status: str | None = None) -> bool:
    membership = image.members.get(project_id) if project_id is not None else None
    if membership is None:
        return False
    return member_status in (None, "all") or membership.status == member_status


def can_see(context: RequestContext, image: Image, settings: Settings, member_status: str | None = None) -> bool:
    """Whether the caller may see the image; ``member_status`` narrows shared images as a list does."""
    return _stored_visibility(context, image, member_status) and engine(settings).allows(
        "get_image", image_target(image, context), context
    )


def require_visible(context: RequestContext, image: Image | None, image_id: str, settings: Settings) -> Image:
    if image is None or not can_see(context, image, settings):
        raise ImageNotFound(image_id)
    return image


def allows(context: RequestContext, action: str, image: Image, settings: Settings) -> bool:
    """A soft check of an image rule (Glance's ``check``): no exception, just the answer."""
    return engine(settings).allows(action, image_target(image, context), context)


def authorize(context: RequestContext, action: str, image: Image, settings: Settings) -> None:
    """``action`` on a visible image: 403 if refused, 404 if the caller fails get_image too."""
    rules = engine(settings)
    target = image_target(image, context)
    if rules.allows(action, target, context):
        return
    if not rules.allows("get_image", target, context):
        raise ImageNotFound(image.id)
    raise Forbidden(f"You are not authorized to complete {action} action.")


def require_may_create(context: RequestContext, owner: str | None, visibility: str, settings: Settings) -> None:
    rules = engine(settings)
    target = {"project_id": owner, "owner": owner, "visibility": visibility}
    if not rules.allows("add_image", target, context):
        if owner != context.project_id:
            raise Forbidden(f"You are not permitted to create images owned by '{owner}'.")
        raise Forbidden("You are not authorized to complete add_image action.")
    require_visibility_change(context, target, visibility, settings)


def require_visibility_change(context: RequestContext, target: dict, visibility: str, settings: Settings) -> None:
    action = {"public": "publicize_image", "community": "communitize_image"}.get(visibility)
    if action and not engine(settings).allows(action, target, context):
        raise Forbidden(f"You are not authorized to complete {action} action.")


def require_allowed(context: RequestContext, action: str, settings: Settings, target: dict | None = None) -> None:
    """A rule without an image (get_images, tasks_api_access, get_tasks ...): 403 when refused."""
    if not engine(settings).allows(action, target or {"project_id": context.project_id}, context):
        raise Forbidden(f"You are not authorized to complete {action} action.")

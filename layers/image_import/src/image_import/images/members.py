"""Image sharing: the members of a ``shared`` image (Glance's image members API).

Members live on the image record (``Image.members``, a map keyed by project id), so every change
is one conditional write on the image's version, like any other image write; a change that loses
a race is re-read and re-applied. Deleting the image deletes its members with it. Changing the
image's visibility keeps them (as Glance does): they grant access only while it is ``shared``.

Checks run in Glance's order (glance/api/v2/image_members.py): body, image (404), ``shared``
(403), member lookup (404), policy (403, or 404 where Glance hides the member), quota (413),
duplicate (409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, ConcurrentUpdate, Conflict, Forbidden, NotFound, RequestEntityTooLarge
from image_import.images.catalog import get_image
from image_import.models import Image, RequestContext
from image_import.models.image import ImageMember
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.settings import Settings

# The members share the image's DynamoDB item (400 KB): whatever image_member_quota says, no more than this.
MAX_MEMBERS_PER_IMAGE = 500
MAX_MEMBER_ID_LENGTH = 255  # Glance's image_members.member column
ATTEMPTS = 5
ONLY_SHARED = "Only shared images have members."


def member_document(image_id: str, member_id: str, member: ImageMember) -> dict[str, Any]:
    return {
        "created_at": member.created_at,
        "updated_at": member.updated_at,
        "image_id": image_id,
        "member_id": member_id,
        "status": member.status,
        "schema": "/v2/schemas/member",
    }


def visible_members(context: RequestContext, image: Image) -> dict[str, ImageMember]:
    """The memberships this caller may know of: all to admins and the owner, else only its own."""
    if context.is_admin or (context.project_id is not None and image.owner == context.project_id):
        return dict(image.members)
    own = image.members.get(context.project_id) if context.project_id is not None else None
    return {context.project_id: own} if own is not None else {}


def list_members(context: RequestContext, image_id: str, settings: Settings, ports: Ports) -> list[dict]:
    image = get_image(context, image_id, ports, settings)
    if image.visibility != "shared":
        raise Forbidden(f"Not allowed to list members for image {image_id}: {ONLY_SHARED}")
    access.authorize(context, "get_members", image, settings)
    if not access.allows(context, "get_member", image, settings):
        return []
    members = sorted(visible_members(context, image).items(), key=lambda item: (item[1].created_at, item[0]))
    return [member_document(image_id, member_id, member) for member_id, member in members]


def get_member(context: RequestContext, image_id: str, member_id: str, settings: Settings, ports: Ports) -> dict:
    image = get_image(context, image_id, ports, settings)
    if image.visibility != "shared":
        raise NotFound(ONLY_SHARED)  # Glance turns every refusal of this call into a 404
    try:
        member = _lookup(context, image, member_id, settings)
    except Forbidden as refused:
        raise NotFound(refused.explanation) from None
    return member_document(image_id, member_id, member)


def add_member(context: RequestContext, image_id: str, body: Any, settings: Settings, ports: Ports) -> dict:
    member_id = _member_from(body)

    def add(image: Image) -> ImageMember:
        if image.visibility != "shared":
            raise Forbidden(f"Not allowed to create members for image {image_id}. {ONLY_SHARED}")
        access.authorize(context, "add_member", image, settings)
        limit = _member_limit(settings)
        if len(image.members) + 1 > limit:
            raise RequestEntityTooLarge(
                "The limit has been exceeded on the number of allowed image members for this image. "
                f"Attempted: {len(image.members) + 1}, Maximum: {limit}"
            )
        if member_id in image.members:
            raise Conflict(f"Member {member_id} is duplicated for image {image_id}")
        now = utcnow()
        image.members[member_id] = ImageMember(status="pending", created_at=now, updated_at=now)
        return image.members[member_id]

    member = _change(context, image_id, settings, ports, add)
    notifications.member_event("image.member.create", image_id, member_id, member, ports, settings)
    return member_document(image_id, member_id, member)


def update_member(
    context: RequestContext, image_id: str, member_id: str, body: Any, settings: Settings, ports: Ports
) -> dict:
    status = _status_from(body)

    def update(image: Image) -> ImageMember:
        if image.visibility != "shared":
            raise Forbidden(f"Not allowed to update members for image {image_id}.")
        member = _lookup(context, image, member_id, settings)
        # only the member itself (or an admin): the owner's project is never the image's member
        access.authorize(context, "modify_member", image, settings)
        if status not in access.MEMBER_STATUSES:
            raise BadRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".')
        member.status, member.updated_at = status, utcnow()
        image.members[member_id] = member
        return member

    member = _change(context, image_id, settings, ports, update)
    notifications.member_event("image.member.update", image_id, member_id, member, ports, settings)
    return member_document(image_id, member_id, member)


def delete_member(context: RequestContext, image_id: str, member_id: str, settings: Settings, ports: Ports) -> None:
    def delete(image: Image) -> ImageMember:
        if image.visibility != "shared":
            raise Forbidden(f"Not allowed to delete members for image {image_id}.")
        _lookup(context, image, member_id, settings)
        access.authorize(context, "delete_member", image, settings)
        return image.members.pop(member_id)

    member = _change(context, image_id, settings, ports, delete)
    notifications.member_event("image.member.delete", image_id, member_id, member, ports, settings)


# ---------------------------------------------------------------- helpers
def _lookup(context: RequestContext, image: Image, member_id: str, settings: Settings) -> ImageMember:
    """A membership the caller may see (get_member policy: 403; unknown or another project's: 404)."""
    access.authorize(context, "get_member", image, settings)
    member = visible_members(context, image).get(member_id)
    if member is None:
        raise NotFound(f"{member_id} not found in the member list of the image {image.id}.")
    return member


def _change(context: RequestContext, image_id: str, settings: Settings, ports: Ports, change: Callable[[Image], Any]):
    """Apply ``change`` to the image as it is now and save it on the version read; re-read on a race."""
    results: list[Any] = []

    def changed(image: Image | None) -> bool:
        results[:] = [change(access.require_visible(context, image, image_id, settings))]
        return True  # the image's updated_at stays: Glance's member calls do not touch it

    try:
        ports.images.edit(image_id, changed, attempts=ATTEMPTS)
    except ConcurrentUpdate:
        raise Conflict(f"Image {image_id} kept changing; the member change was not applied.") from None
    return results[0]


def _member_limit(settings: Settings) -> int:
    quota = settings.image_member_quota
    return MAX_MEMBERS_PER_IMAGE if quota < 0 else min(quota, MAX_MEMBERS_PER_IMAGE)


def _member_from(body: Any) -> str:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest('Expected a member in the form: {"member": "image_id"}')
    if "member" not in body:
        raise BadRequest("Member to be added not specified")
    member_id = body["member"]
    if not member_id:
        raise BadRequest("Member can't be empty")
    if not isinstance(member_id, str):
        raise BadRequest('Expected a member in the form: {"member": "image_id"}')
    if len(member_id) > MAX_MEMBER_ID_LENGTH:
        raise BadRequest(f"Member id must be at most {MAX_MEMBER_ID_LENGTH} characters.")
    return member_id


def _status_from(body: Any) -> Any:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest('Expected a status in the form: {"status": "status"}')
    if "status" not in body:
        raise BadRequest("Status not specified")
    return body["status"]

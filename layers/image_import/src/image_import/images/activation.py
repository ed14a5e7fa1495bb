"""POST /v2/images/{id}/actions/deactivate|reactivate: ``active <-> deactivated``, as Glance.

Repeating either is a no-op (204); any other status is 403. A deactivated image's data can be
downloaded by admins only (images/download.py); the moves are in models/lifecycle.py.
"""

from __future__ import annotations

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, Conflict, Forbidden
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.settings import Settings

# the two actions (the API's route checks its path against these), and their moves in the lifecycle
TRANSITIONS = {action: lifecycle.TRANSITIONS[action] for action in ("deactivate", "reactivate")}


def change_activation(context: RequestContext, image_id: str, action: str, settings: Settings, ports: Ports) -> None:
    sources, (destination,) = TRANSITIONS[action]

    def move(image: Image | None) -> bool:
        image = access.require_visible(context, image, image_id, settings)
        access.authorize(context, action, image, settings)
        if image.status == destination:
            return False  # repeating the action is a no-op
        if image.status not in sources:
            raise Forbidden(f"Not allowed to {action} image in status '{image.status}'")
        lifecycle.move(image, action)
        image.updated_at = utcnow()
        return True

    try:
        changed = ports.images.edit(image_id, move, attempts=5)
    except ConcurrentUpdate:
        raise Conflict(f"Image {image_id} kept changing; it was not {action}d.") from None
    if changed is not None:  # a repeated action changed nothing: no event
        notifications.image_event("image.update", changed, ports, settings)

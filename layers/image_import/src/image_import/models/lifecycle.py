"""An image's statuses and every move between them the service makes, by name.

::

    create ------------> queued
    stage   queued    -> uploading   PUT /stage, a direct upload's S3 event
    unstage uploading -> queued      a stage that failed
    save    queued    -> saving      PUT /file
    saved   saving    -> active
    unsave  saving    -> queued      an upload that failed
    import  queued | uploading -> importing    POST /import (web-download | glance-direct)
    release importing -> queued | uploading    an import that is dead or never started: what it was
    activate importing -> active     the import's last step
    revert  importing -> uploading (staged data kept) | queued (nothing kept)
    deactivate active <-> deactivated reactivate

Deleting replaces the record by a tombstone whatever its status (adapters/records). Glance's ``killed``, ``deleted`` and
``pending_delete`` are never set here. A move from a status the table does not list is a bug in
the service, not a user error: it raises :class:`IllegalTransition` (an internal error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from image_import.models import Image

QUEUED, SAVING, UPLOADING, IMPORTING = "queued", "saving", "uploading", "importing"
ACTIVE, DEACTIVATED = "active", "deactivated"
KILLED, DELETED, PENDING_DELETE = "killed", "deleted", "pending_delete"  # Glance's; never set here

# the status a new image starts in
INITIAL = QUEUED
# transition -> (the statuses it may leave, the statuses it may reach)
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "stage": (frozenset({QUEUED}), frozenset({UPLOADING})),
    "unstage": (frozenset({UPLOADING}), frozenset({QUEUED})),
    "save": (frozenset({QUEUED}), frozenset({SAVING})),
    "saved": (frozenset({SAVING}), frozenset({ACTIVE})),
    "unsave": (frozenset({SAVING}), frozenset({QUEUED})),
    "import": (frozenset({QUEUED, UPLOADING}), frozenset({IMPORTING})),
    "release": (frozenset({IMPORTING}), frozenset({QUEUED, UPLOADING})),
    "activate": (frozenset({IMPORTING}), frozenset({ACTIVE})),
    "revert": (frozenset({IMPORTING}), frozenset({QUEUED, UPLOADING})),
    "deactivate": (frozenset({ACTIVE}), frozenset({DEACTIVATED})),
    "reactivate": (frozenset({DEACTIVATED}), frozenset({ACTIVE})),
}


class IllegalTransition(RuntimeError):
    """The service tried a move its lifecycle does not have: a bug, answered as an internal error."""


def move(image: Image, transition: str, to: str | None = None) -> None:
    """Set ``image.status`` by ``transition``; ``to`` picks the destination where there are two."""
    sources, destinations = TRANSITIONS[transition]
    if to is None:
        if len(destinations) != 1:
            raise IllegalTransition(f"{transition} needs a destination: one of {sorted(destinations)}")
        (to,) = destinations
    if image.status not in sources or to not in destinations:
        raise IllegalTransition(f"image {image.id}: no {transition} from '{image.status}' to '{to}'")
    image.status = to


def status_before_import(staged: bool) -> str:
    """What an image was before an import (one that is dead, or never started): 'uploading' while staged data exists."""
    return UPLOADING if staged else QUEUED

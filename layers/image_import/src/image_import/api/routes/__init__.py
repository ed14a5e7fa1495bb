"""The Images API v2 routes, one Powertools Router per resource; ``image_import.api.app`` includes them.

What the routers share: the path parameters, the service's ports and the import gate.
"""

from __future__ import annotations

from image_import.errors import NotFound
from image_import.settings import get_settings

IMAGE_ID = "<image_id>"
MEMBER_ID = "<member_id>"

IMPORT_OFF = "Image import is not supported at this site."


def ports():
    from image_import.adapters.ports import default_ports

    return default_ports()


def require_import_enabled() -> None:
    """The import gate: with enable_image_import = false these routes answer as an API without import."""
    if not get_settings().enable_image_import:
        raise NotFound(IMPORT_OFF)

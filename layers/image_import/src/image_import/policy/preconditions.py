"""The gates data must pass to arrive: which image may be imported, staged or uploaded to, in one table.

Each operation names the statuses it accepts (with Glance's message for any other, and a few statuses
that have their own message, checked first), whether ``disk_format`` and ``container_format`` must be
set (and how Glance says they are not), and the import method that must be enabled at this site.

Two checks, because the sites make them at different moments: :func:`require_available` before the
image is read (a site without glance-direct answers 404 whatever the image), :func:`check` on the
image, status first, then formats. Access and the import lock stay at the sites: where they come in
the order differs from one operation to the next, and Glance's answers depend on that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from image_import.errors import BadRequest, Conflict, GlanceError, NotFound

if TYPE_CHECKING:
    from image_import.models import Image
    from image_import.settings import Settings


@dataclass(frozen=True)
class Refusal:
    """An error and its message; ``{image_id}`` and ``{status}`` are filled in from the image."""

    kind: type[GlanceError]
    message: str

    def error(self, image: Image | None = None) -> GlanceError:
        if image is None:
            return self.kind(self.message)
        return self.kind(self.message.format(image_id=image.id, status=image.status))


@dataclass(frozen=True)
class Required:
    """Image fields that must all be set, and the refusal when one is not."""

    fields: tuple[str, ...]
    refusal: Refusal


@dataclass(frozen=True)
class Gate:
    statuses: frozenset[str]  # the statuses the operation accepts
    wrong_status: Refusal  # for any other status (after ``refused``)
    refused: Mapping[str, Refusal] = field(default_factory=lambda: MappingProxyType({}))  # checked first
    formats: tuple[Required, ...] = ()  # checked in order, after the status
    method: str | None = None  # the import method that must be enabled at this site


# Glance's import API (glance/api/v2/images.py import_image): each format on its own, 409
FORMATS_FOR_IMPORT = (
    Required(("container_format",), Refusal(Conflict, "'container_format' needs to be set before import")),
    Required(("disk_format",), Refusal(Conflict, "'disk_format' needs to be set before import")),
)
# Glance's upload (glance/api/v2/image_data.py upload): both at once, 400
FORMATS_FOR_SAVING = (
    Required(
        ("disk_format", "container_format"),
        Refusal(BadRequest, "Properties disk_format, container_format must be set prior to saving data."),
    ),
)
NOT_AVAILABLE = Refusal(NotFound, "'glance-direct' method is not available at this site.")
ACTIVE_IMPORT = MappingProxyType({"active": Refusal(Conflict, "Image with status active cannot be target for import")})
QUEUED_FOR_DIRECT_UPLOAD = Refusal(
    Conflict, "Image {image_id} is in status '{status}'; data can only be uploaded for a 'queued' image."
)

IMPORT_WEB_DOWNLOAD = "import:web-download"
IMPORT_GLANCE_DIRECT = "import:glance-direct"
IMPORT_COPY_IMAGE = "import:copy-image"
STAGE = "stage"  # PUT /stage
UPLOAD = "upload"  # PUT /file
UPLOAD_URLS = "upload-urls"  # presigned URLs for a direct upload...
UPLOAD_URLS_THEN_IMPORT = "upload-urls+import"  # ...that starts the import once the data is in
UPLOAD_COMPLETE = "upload-complete"  # a direct multipart upload completed

GATES: Mapping[str, Gate] = MappingProxyType(
    {
        IMPORT_WEB_DOWNLOAD: Gate(
            statuses=frozenset({"queued"}),
            refused=ACTIVE_IMPORT,
            wrong_status=Refusal(Conflict, "Image needs to be in 'queued' state to use 'web-download' method"),
            formats=FORMATS_FOR_IMPORT,
        ),
        IMPORT_GLANCE_DIRECT: Gate(
            statuses=frozenset({"uploading"}),
            refused=ACTIVE_IMPORT,
            wrong_status=Refusal(Conflict, "Image needs to be staged before 'glance-direct' method can be used"),
            formats=FORMATS_FOR_IMPORT,
        ),
        IMPORT_COPY_IMAGE: Gate(
            statuses=frozenset({"active"}),
            wrong_status=Refusal(Conflict, "Only images with status active can be targeted for copying"),
            formats=FORMATS_FOR_IMPORT,
        ),
        STAGE: Gate(
            statuses=frozenset({"queued"}),
            wrong_status=Refusal(
                Conflict, "Image {image_id} is in status '{status}'; data can only be staged for a 'queued' image."
            ),
            method="glance-direct",
        ),
        UPLOAD: Gate(
            statuses=frozenset({"queued"}),
            wrong_status=Refusal(
                Conflict, "Image {image_id} is in status '{status}'; data can only be uploaded to a 'queued' image."
            ),
            formats=FORMATS_FOR_SAVING,
        ),
        UPLOAD_URLS: Gate(
            statuses=frozenset({"queued"}), wrong_status=QUEUED_FOR_DIRECT_UPLOAD, method="glance-direct"
        ),
        # refuse now what the import would refuse later, when nobody is there to read it
        UPLOAD_URLS_THEN_IMPORT: Gate(
            statuses=frozenset({"queued"}),
            wrong_status=QUEUED_FOR_DIRECT_UPLOAD,
            formats=FORMATS_FOR_IMPORT,
            method="glance-direct",
        ),
        UPLOAD_COMPLETE: Gate(
            statuses=frozenset({"queued"}), wrong_status=QUEUED_FOR_DIRECT_UPLOAD, method="glance-direct"
        ),
    }
)


def import_operation(method: str) -> str:
    """The gate of an import by ``method`` (one of the supported import methods)."""
    return f"import:{method}"


def require_available(operation: str, settings: Settings) -> None:
    """Refuse an operation whose import method this site does not offer (before the image is read)."""
    method = GATES[operation].method
    if method is not None and method not in settings.enabled_import_methods:
        raise NOT_AVAILABLE.error()


def check(operation: str, image: Image) -> None:
    """Refuse the operation on ``image`` as Glance would: its status, then its formats."""
    gate = GATES[operation]
    if image.status in gate.refused:
        raise gate.refused[image.status].error(image)
    if image.status not in gate.statuses:
        raise gate.wrong_status.error(image)
    for required in gate.formats:
        if not all(getattr(image, name) for name in required.fields):
            raise required.refusal.error(image)

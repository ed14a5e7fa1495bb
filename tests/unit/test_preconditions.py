"""The import, stage and upload gates, row by row: Glance's status codes and messages, in Glance's order."""

from __future__ import annotations

import dataclasses

import pytest

from image_import.errors import BadRequest, Conflict, NotFound
from image_import.models import Image
from image_import.policy import preconditions as gates

ID = "00000000-0000-0000-0000-000000000001"
STATUSES = ["queued", "saving", "uploading", "importing", "active", "deactivated"]
ACTIVE = "Image with status active cannot be target for import"
NOT_QUEUED_WEB = "Image needs to be in 'queued' state to use 'web-download' method"
NOT_STAGED = "Image needs to be staged before 'glance-direct' method can be used"
NO_CONTAINER = "'container_format' needs to be set before import"
NO_DISK = "'disk_format' needs to be set before import"
NO_FORMATS_TO_SAVE = "Properties disk_format, container_format must be set prior to saving data."
NOT_ACTIVE_TO_COPY = "Only images with status active can be targeted for copying"


def image(status="queued", disk_format="raw", container_format="bare") -> Image:
    return Image(id=ID, owner="demo", status=status, disk_format=disk_format, container_format=container_format)


def refusal(operation: str, img: Image) -> tuple[type, str] | None:
    try:
        gates.check(operation, img)
    except (BadRequest, Conflict) as exc:
        return type(exc), exc.explanation
    return None


def direct(status: str) -> str:
    return f"Image {ID} is in status '{status}'; data can only be uploaded for a 'queued' image."


WRONG_STATUS = {
    gates.IMPORT_WEB_DOWNLOAD: lambda s: ACTIVE if s == "active" else NOT_QUEUED_WEB,
    gates.IMPORT_GLANCE_DIRECT: lambda s: ACTIVE if s == "active" else NOT_STAGED,
    gates.IMPORT_COPY_IMAGE: lambda s: NOT_ACTIVE_TO_COPY,  # multi-store: more stores for an active image
    gates.STAGE: lambda s: f"Image {ID} is in status '{s}'; data can only be staged for a 'queued' image.",
    gates.UPLOAD: lambda s: f"Image {ID} is in status '{s}'; data can only be uploaded to a 'queued' image.",
    gates.UPLOAD_URLS: direct,
    gates.UPLOAD_URLS_THEN_IMPORT: direct,
    gates.UPLOAD_COMPLETE: direct,
}
ACCEPTS = {gates.IMPORT_GLANCE_DIRECT: "uploading", gates.IMPORT_COPY_IMAGE: "active"}  # others: 'queued'


def test_every_operation_has_a_row_and_a_case_here():
    assert set(gates.GATES) == set(WRONG_STATUS)


@pytest.mark.parametrize("operation", sorted(WRONG_STATUS))
@pytest.mark.parametrize("status", STATUSES)
def test_given_a_status_when_checked_then_only_the_accepted_one_passes_and_others_get_glances_409(operation, status):
    expected = None if status == ACCEPTS.get(operation, "queued") else (Conflict, WRONG_STATUS[operation](status))
    assert refusal(operation, image(status)) == expected


# (operation, disk_format, container_format) -> refusal; the formats are checked after the status
FORMATS = [
    (gates.IMPORT_WEB_DOWNLOAD, None, None, (Conflict, NO_CONTAINER)),  # container first
    (gates.IMPORT_WEB_DOWNLOAD, "raw", None, (Conflict, NO_CONTAINER)),
    (gates.IMPORT_WEB_DOWNLOAD, None, "bare", (Conflict, NO_DISK)),
    (gates.IMPORT_GLANCE_DIRECT, None, None, (Conflict, NO_CONTAINER)),
    (gates.IMPORT_GLANCE_DIRECT, None, "bare", (Conflict, NO_DISK)),
    (gates.IMPORT_COPY_IMAGE, None, None, (Conflict, NO_CONTAINER)),
    (gates.UPLOAD_URLS_THEN_IMPORT, None, None, (Conflict, NO_CONTAINER)),
    (gates.UPLOAD_URLS_THEN_IMPORT, None, "bare", (Conflict, NO_DISK)),
    (gates.UPLOAD, None, None, (BadRequest, NO_FORMATS_TO_SAVE)),  # both named at once, 400
    (gates.UPLOAD, "raw", None, (BadRequest, NO_FORMATS_TO_SAVE)),
    (gates.UPLOAD, None, "bare", (BadRequest, NO_FORMATS_TO_SAVE)),
    (gates.UPLOAD, "", "bare", (BadRequest, NO_FORMATS_TO_SAVE)),
    # formats are not asked for: staging, a direct upload without import, its completion
    (gates.STAGE, None, None, None),
    (gates.UPLOAD_URLS, None, None, None),
    (gates.UPLOAD_COMPLETE, None, None, None),
]


@pytest.mark.parametrize("operation, disk, container, expected", FORMATS)
def test_given_formats_when_checked_on_an_accepted_status_then_glances_answer(operation, disk, container, expected):
    img = image(ACCEPTS.get(operation, "queued"), disk_format=disk, container_format=container)
    assert refusal(operation, img) == expected


@pytest.mark.parametrize("operation", sorted(WRONG_STATUS))
def test_given_a_wrong_status_and_no_formats_then_the_status_is_what_is_refused(operation):
    wrong = "importing"
    expected = (Conflict, WRONG_STATUS[operation](wrong))
    assert refusal(operation, image(wrong, disk_format=None, container_format=None)) == expected


@pytest.mark.parametrize(
    "operation, needs_glance_direct",
    [
        (gates.IMPORT_WEB_DOWNLOAD, False),  # an import method not enabled is the body's 400, not a gate
        (gates.IMPORT_GLANCE_DIRECT, False),
        (gates.STAGE, True),
        (gates.UPLOAD, False),
        (gates.UPLOAD_URLS, True),
        (gates.UPLOAD_URLS_THEN_IMPORT, True),
        (gates.UPLOAD_COMPLETE, True),
    ],
)
def test_given_a_site_without_glance_direct_then_its_operations_are_not_found(settings, operation, needs_glance_direct):
    without = dataclasses.replace(settings, enabled_import_methods=("web-download",))
    gates.require_available(operation, dataclasses.replace(settings, enabled_import_methods=("glance-direct",)))
    if needs_glance_direct:
        with pytest.raises(NotFound) as raised:
            gates.require_available(operation, without)
        assert raised.value.explanation == "'glance-direct' method is not available at this site."
    else:
        gates.require_available(operation, without)


def test_an_import_operation_is_named_by_its_method():
    assert gates.import_operation("web-download") == gates.IMPORT_WEB_DOWNLOAD
    assert gates.import_operation("glance-direct") == gates.IMPORT_GLANCE_DIRECT

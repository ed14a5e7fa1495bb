"""The bucket key layout (transfer/layout.py): one owner for every key and prefix."""

from __future__ import annotations

import uuid

import pytest

from image_import.models import Image
from image_import.transfer import layout

IMAGE_ID = str(uuid.uuid4())


def test_each_kind_of_data_has_its_own_prefix():
    assert layout.staging_key(IMAGE_ID) == f"staging/{IMAGE_ID}"
    assert layout.upload_key(IMAGE_ID) == f"uploads/{IMAGE_ID}"
    assert layout.received_key(IMAGE_ID, "c1") == f"staging/{IMAGE_ID}.upload.c1"
    assert layout.download_key(IMAGE_ID) == f"web-download/{IMAGE_ID}"
    assert layout.store_key(IMAGE_ID) == f"images/{IMAGE_ID}"


def test_a_web_download_import_reads_the_download_key_whatever_was_staged():
    image = Image(id=IMAGE_ID, staged_key=layout.upload_key(IMAGE_ID))
    assert layout.source_key(image, "web-download") == layout.download_key(IMAGE_ID)


def test_a_glance_direct_import_reads_where_the_data_was_staged_else_the_stage_key():
    assert layout.source_key(Image(id=IMAGE_ID, staged_key=layout.upload_key(IMAGE_ID)), "glance-direct") == (
        layout.upload_key(IMAGE_ID)
    )
    assert layout.source_key(Image(id=IMAGE_ID), "glance-direct") == layout.staging_key(IMAGE_ID)


@pytest.mark.parametrize(
    "key, image_id",
    [
        (f"staging/{IMAGE_ID}", IMAGE_ID),
        (f"uploads/{IMAGE_ID}", IMAGE_ID),
        (f"staging/{IMAGE_ID}.upload.c1", IMAGE_ID),  # a received direct upload: swept with its image
        (f"web-download/{IMAGE_ID}", IMAGE_ID),
        (f"images/{IMAGE_ID}", IMAGE_ID),
        (f"staging/{IMAGE_ID}.qcow2", IMAGE_ID),  # conversion residue belongs to the image too
        (f"staging/nested/{IMAGE_ID}.raw.part", IMAGE_ID),
        (IMAGE_ID, None),  # no prefix: none of the service's
        ("staging/", None),
    ],
)
def test_the_sweeper_finds_an_objects_image_by_glances_housekeeping_rule(key, image_id):
    assert layout.image_id_of_key(key) == image_id


def test_only_an_upload_key_naming_a_uuid_names_an_uploaded_image():
    assert layout.image_id_of_upload(layout.upload_key(IMAGE_ID)) == IMAGE_ID
    assert layout.image_id_of_upload(layout.staging_key(IMAGE_ID)) is None
    assert layout.image_id_of_upload("uploads/not-a-uuid") is None


def test_a_received_direct_upload_is_outside_the_prefix_users_write_and_the_trigger_listens_to():
    key = layout.received_key(IMAGE_ID, "c1")
    assert not key.startswith(layout.UPLOAD_PREFIX) and layout.image_id_of_upload(key) is None
    assert key != layout.staging_key(IMAGE_ID)  # PUT /stage's key is its own
    assert layout.is_received_key(IMAGE_ID, key) and not layout.is_received_key(IMAGE_ID, layout.staging_key(IMAGE_ID))
    assert not layout.is_received_key(str(uuid.uuid4()), key) and not layout.is_received_key(IMAGE_ID, None)

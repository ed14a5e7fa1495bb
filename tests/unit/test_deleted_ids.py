"""A deleted image's id is never handed out again (OSSN-0075), over the in-memory fakes: they keep
the tombstone as the DynamoDB repository does (tests/integration/test_deleted_ids.py)."""

from __future__ import annotations

import pytest

from image_import.errors import ConcurrentUpdate, Conflict, NotFound
from image_import.images.catalog import create_image, delete_image, get_image, list_images
from image_import.models import RequestContext
from image_import.workflow.sweeper import sweep
from tests.support.fakes import fake_ports
from tests.support.imports import MEMBER
from tests.support.records import in_memory

OTHER = RequestContext(user_id="alt", project_id="alt", roles=["member", "reader"], request_id="req-2")
IMAGE_ID = "0d5e7a43-9b1c-4f2e-8a6d-3c1b2a4f5e60"


def deleted(ports, settings) -> str:
    create_image(MEMBER, {"id": IMAGE_ID, "name": "mine"}, settings, ports)
    delete_image(MEMBER, IMAGE_ID, ports, settings)
    return IMAGE_ID


@pytest.mark.parametrize("context", [MEMBER, OTHER], ids=["same project", "another project"])
def test_given_a_deleted_image_then_its_id_cannot_be_created_again(settings, context):
    ports = fake_ports()
    image_id = deleted(ports, settings)
    with pytest.raises(Conflict):
        create_image(context, {"id": image_id, "name": "impostor"}, settings, ports)
    assert ports.images.get(image_id) is None


def test_given_a_deleted_image_then_it_is_gone_everywhere_else(settings):
    ports = fake_ports()
    live = create_image(MEMBER, {"name": "live"}, settings, ports)
    image_id = deleted(ports, settings)
    with pytest.raises(NotFound):
        get_image(MEMBER, image_id, ports, settings)
    with pytest.raises(NotFound):
        delete_image(MEMBER, image_id, ports, settings)
    assert [i.id for i in in_memory(ports.images)] == [live.id]
    assert [i.id for i in list_images(MEMBER, {}, settings, ports).images] == [live.id]
    with pytest.raises(ConcurrentUpdate):
        ports.images.delete(image_id, expected_version=0)
    sweep(ports, settings)
    with pytest.raises(Conflict):  # the sweeper frees no id
        create_image(MEMBER, {"id": image_id}, settings, ports)

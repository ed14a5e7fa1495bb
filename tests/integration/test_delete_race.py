"""DELETE racing PATCH protected=true in the moto stack: the conditional delete against real DynamoDB."""

from __future__ import annotations

import pytest

from image_import.adapters.records import ImageRepository
from image_import.errors import ConcurrentUpdate

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def test_a_patch_protected_landing_between_the_read_and_the_delete_wins(member, stack, monkeypatch):
    image = member.create()
    get, fired = ImageRepository.get, []

    def racing_get(self, image_id):
        record = get(self, image_id)
        if fired == ["delete started"]:  # DELETE has read the image: the PATCH's write lands now
            fired.append("patched")
            patched = get(self, image_id)
            patched.protected = True
            self.save(patched)
        return record

    monkeypatch.setattr(ImageRepository, "get", racing_get)
    fired.append("delete started")
    reply = member.call("DELETE", f"/v2/images/{image['id']}")
    assert fired[-1] == "patched"
    assert reply.status == 403, reply.text
    assert f"Image {image['id']} is protected and cannot be deleted" in reply.text
    assert member.show(image["id"])["protected"] is True


def test_the_conditional_delete_needs_the_version_read_and_an_unprotected_record(member, stack):
    images = ImageRepository(stack.physical_name("ImagesTable"))
    image_id = member.create()["id"]
    read = images.get(image_id)
    member.call("PATCH", f"/v2/images/{image_id}", [{"op": "replace", "path": "/name", "value": "x"}], PATCH)
    with pytest.raises(ConcurrentUpdate):
        images.delete(image_id, expected_version=read.version)  # changed since it was read
    protected = images.get(image_id)
    protected.protected = True
    images.save(protected)
    with pytest.raises(ConcurrentUpdate):
        images.delete(image_id, expected_version=protected.version)  # protected
    assert images.get(image_id) is not None
    unprotected = images.get(image_id)
    unprotected.protected = False
    images.save(unprotected)
    images.delete(image_id, expected_version=unprotected.version)
    assert images.get(image_id) is None

"""Glance's image_property_quota: 413 on create and PATCH beyond it; imports never trip it."""

from __future__ import annotations

import pytest

from tests.support.config import set_option
from tests.support.workflow import import_and_wait

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
MESSAGE = "The limit has been exceeded on the number of allowed image properties."


@pytest.fixture
def stack_config(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_property_quota", "2")
    return config_dir


def test_creating_with_more_properties_than_the_quota_is_413(member):
    reply = member.call("POST", "/v2/images", {"name": "x", "a": "1", "b": "2", "c": "3"})
    assert reply.status == 413, reply.text
    assert f"{MESSAGE} Attempted: 3, Maximum: 2" in reply.json["message"]
    assert member.call("GET", "/v2/images").json["images"] == []


def test_patching_beyond_the_quota_is_413_and_changes_nothing(member):
    image = member.create(a="1", b="2")
    reply = member.call("PATCH", f"/v2/images/{image['id']}", [{"op": "add", "path": "/c", "value": "3"}], PATCH)
    assert reply.status == 413, reply.text
    assert MESSAGE in reply.json["message"]
    assert "c" not in member.show(image["id"])
    replace = [{"op": "replace", "path": "/a", "value": "9"}]  # at the quota, not beyond: fine
    assert member.call("PATCH", f"/v2/images/{image['id']}", replace, PATCH).status == 200


def test_an_import_at_the_quota_is_not_stopped_by_the_services_own_properties(member, stack):
    # the import adds os_glance_* bookkeeping and the injected property1: none of it is the user's
    image = import_and_wait(member, stack, b"data", a="1", b="2")
    assert image["status"] == "active"

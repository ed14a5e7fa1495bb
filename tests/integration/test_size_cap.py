"""image_size_cap applies while staging: 413, and nothing half-written is left."""

from __future__ import annotations

import pytest

from tests.support.config import set_option
from tests.support.stack_state import bucket_keys


@pytest.fixture
def stack_config(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_size_cap", "8")
    return config_dir


def test_staging_beyond_the_size_cap_is_413_and_the_image_stays_queued(member, stack):
    image = member.create()
    reply = member.stage(image["id"], b"123456789")
    assert reply.status == 413
    assert member.show(image["id"])["status"] == "queued"
    assert member.show(image["id"])["size"] is None
    assert bucket_keys(stack, "StagingBucket") == []


def test_a_declared_size_beyond_the_cap_is_413_before_reading(member, stack):
    image = member.create()
    reply = member.call(
        "PUT",
        f"/v2/images/{image['id']}/stage",
        b"1",
        {"Content-Type": "application/octet-stream", "x-openstack-image-size": "9"},
    )
    assert reply.status == 413
    assert member.show(image["id"])["status"] == "queued"


def test_data_within_the_cap_stages(member):
    image = member.create()
    assert member.stage(image["id"], b"12345678").status == 204


def test_a_direct_upload_over_the_cap_is_removed_and_the_image_stays_queued(member, stack):
    import requests

    image = member.create()
    reply = member.call("POST", f"/v2/images/{image['id']}/upload-urls", {"size": 8})
    assert requests.put(reply.json["url"], data=b"123456789", timeout=30).status_code == 200
    stack.settle()
    assert member.show(image["id"])["status"] == "queued"
    assert bucket_keys(stack, "StagingBucket") == []


def test_asking_upload_urls_for_more_than_the_cap_is_413(member):
    image = member.create()
    assert member.call("POST", f"/v2/images/{image['id']}/upload-urls", {"size": 9}).status == 413

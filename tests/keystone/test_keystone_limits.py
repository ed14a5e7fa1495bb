"""quotas/keystone.py against a real Keystone (tests/keystone_server.py), limits registered as an operator does."""

from __future__ import annotations

import uuid

import pytest

from image_import.models.quota import RESOURCES
from image_import.quotas.keystone import KeystoneLimits, LimitsUnavailable
from image_import.settings.ini import parse_ini
from image_import.settings.oslo_limit import load_oslo_limit
from tests.support.api import Api
from tests.support.config import set_option

# a service of its own (not "image"/"glance"): the session's Keystone also serves the tempest runs
SERVICE_TYPE = "image-limits-test"


@pytest.fixture(scope="module")
def glance_service(keystone):
    """A service with a public endpoint in RegionOne, registered limits for three of the four resources."""
    name = f"glance-limits-{uuid.uuid4().hex[:6]}"
    service_id = keystone.admin_call("POST", "/services", {"service": {"type": SERVICE_TYPE, "name": name}})["service"][
        "id"
    ]
    body = {
        "endpoint": {
            "service_id": service_id,
            "interface": "public",
            "url": "http://127.0.0.1:1",
            "region_id": "RegionOne",
        }
    }
    endpoint_id = keystone.admin_call("POST", "/endpoints", body)["endpoint"]["id"]
    keystone.grant_system_reader(keystone.service)
    keystone.register_limits(
        service_id, {"image_size_total": 1000, "image_count_total": 100, "image_count_uploading": 5}
    )
    try:
        yield {"id": service_id, "name": name, "endpoint_id": endpoint_id}
    finally:
        keystone.remove_limits(service_id)
        admin = keystone.token(keystone.admin)
        keystone.call("DELETE", f"/endpoints/{endpoint_id}", admin)
        keystone.call("DELETE", f"/services/{service_id}", admin)


def oslo_limit(config_dir, keystone, options: dict[str, str], authtoken: bool = False):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "use_keystone_limits", "true")
    for key, value in options.items():
        set_option(config_dir, "glance-api.conf", "oslo_limit", key, value)
    if authtoken:
        for key, value in keystone.authtoken_options().items():
            set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    return load_oslo_limit(parse_ini(config_dir / "glance-api.conf"))


def test_given_registered_limits_and_a_project_limit_when_reading_then_the_project_limit_overrides(
    keystone, glance_service, config_dir
):
    source = KeystoneLimits(
        oslo_limit(config_dir, keystone, keystone.oslo_limit_options(glance_service["endpoint_id"]))
    )
    project, other = keystone.member.project_id, keystone.admin.project_id
    limit_id = keystone.set_project_limit(glance_service["id"], project, "image_count_total", 2)

    assert source.limits(project) == {
        "image_size_total": 1000, "image_stage_total": 0, "image_count_total": 2, "image_count_uploading": 5,
    }  # fmt: skip
    assert source.limits(other)["image_count_total"] == 100

    keystone.update_project_limit(limit_id, 7)  # as tempest does between two requests
    assert source.limits(project)["image_count_total"] == 7
    keystone.call("DELETE", f"/limits/{limit_id}", keystone.token(keystone.admin))


def test_given_the_service_name_and_interface_not_an_endpoint_id_when_reading_then_the_same_endpoint(
    keystone, glance_service, config_dir
):
    options = keystone.oslo_limit_options(glance_service["endpoint_id"])
    del options["endpoint_id"]
    options |= {"endpoint_service_name": glance_service["name"], "endpoint_service_type": SERVICE_TYPE}
    options |= {"endpoint_region_name": "RegionOne", "endpoint_interface": "publicURL"}
    source = KeystoneLimits(oslo_limit(config_dir, keystone, options))
    assert source.endpoint() == {"service_id": glance_service["id"], "region_id": "RegionOne"}
    assert set(source.limits(keystone.member.project_id)) == set(RESOURCES)


def test_given_the_project_scoped_authtoken_user_when_reading_then_unavailable_saying_it_needs_the_system_reader(
    keystone, glance_service, config_dir
):
    settings = oslo_limit(config_dir, keystone, {"endpoint_id": glance_service["endpoint_id"]}, authtoken=True)
    assert settings.credentials_section == "keystone_authtoken"
    with pytest.raises(LimitsUnavailable, match="reader role on the system"):
        KeystoneLimits(settings).limits(keystone.member.project_id)


def test_given_a_wrong_password_when_reading_then_unavailable(keystone, glance_service, config_dir):
    options = keystone.oslo_limit_options(glance_service["endpoint_id"]) | {"password": "wrong"}
    with pytest.raises(LimitsUnavailable, match="refused the \\[oslo_limit\\] service credentials"):
        KeystoneLimits(oslo_limit(config_dir, keystone, options)).limits(keystone.member.project_id)


def test_given_an_unknown_endpoint_id_when_reading_then_unavailable_with_oslo_limits_message(
    keystone, glance_service, config_dir
):
    options = keystone.oslo_limit_options("no-such-endpoint")
    with pytest.raises(LimitsUnavailable, match="Can't find endpoint for no-such-endpoint"):
        KeystoneLimits(oslo_limit(config_dir, keystone, options)).limits(keystone.member.project_id)


@pytest.fixture
def limits_endpoint(glance_service) -> str:
    return glance_service["endpoint_id"]


@pytest.fixture
def stack_config(keystone, limits_endpoint, config_dir):
    """The whole stack (its token-file users) with its quotas from the real Keystone, at ``limits_endpoint``."""
    oslo_limit(config_dir, keystone, keystone.oslo_limit_options(limits_endpoint))
    return config_dir


def test_given_the_stack_reading_limits_from_keystone_when_asking_usage_then_the_registered_limits(
    stack, glance_service
):
    reply = Api(stack, "member-token").call("GET", "/v2/info/usage")
    assert reply.status == 200, reply.text
    limits = {name: usage["limit"] for name, usage in reply.json["usage"].items()}
    assert limits == {
        "image_size_total": 1000,
        "image_stage_total": 0,
        "image_count_total": 100,
        "image_count_uploading": 5,
    }


@pytest.mark.parametrize("limits_endpoint", ["no-such-endpoint"])
def test_given_an_oslo_limit_endpoint_keystone_does_not_have_when_creating_then_503_saying_so(stack):
    reply = Api(stack, "member-token").call("POST", "/v2/images", {"name": "x"})
    assert reply.status == 503, reply.text
    assert "Can't find endpoint for no-such-endpoint" in reply.json["message"]

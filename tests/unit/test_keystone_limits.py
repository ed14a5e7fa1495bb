"""quotas/keystone.py: a project's limits from Keystone's unified limits, against a fake Keystone."""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import replace

import pytest

from image_import.identity.keystone import KeystoneUnavailable, Reply
from image_import.models.quota import RESOURCES
from image_import.quotas.keystone import KeystoneLimits, LimitsUnavailable
from image_import.settings.oslo_limit import OsloLimitSettings

AUTH = "http://keystone.test/v3"
SETTINGS = OsloLimitSettings(
    auth_url=AUTH, username="glance", password="pw", user_domain_id="default", system_scope="all", endpoint_id="ep-1"
)
GLANCE = {"id": "svc-glance", "type": "image", "name": "glance"}
ENDPOINT = {"id": "ep-1", "service_id": "svc-glance", "region_id": "RegionOne", "interface": "public"}


class FakeKeystone:
    """Keystone's identity calls the limits need, with the filters Keystone applies."""

    def __init__(self):
        self.services = [GLANCE, {"id": "svc-nova", "type": "compute", "name": "nova"}]
        self.endpoints = [ENDPOINT, {**ENDPOINT, "id": "ep-admin", "interface": "admin"}]
        self.regions = {"RegionOne": {"id": "RegionOne"}}
        self.registered = [
            {"service_id": "svc-glance", "region_id": "RegionOne", "resource_name": name, "default_limit": 10}
            for name in RESOURCES
        ]
        self.project_limits: list[dict] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.issued = 0
        self.valid_tokens: set[str] = set()
        self.down = False
        self.lock = threading.Lock()

    def __call__(self, method, url, headers, body):
        if self.down:
            raise KeystoneUnavailable(f"{method} {url}: connection refused")
        parsed = urllib.parse.urlsplit(url)
        path = parsed.path.removeprefix("/v3")
        query = dict(urllib.parse.parse_qsl(parsed.query))
        with self.lock:
            self.requests.append((method, path, query))
        if (method, path) == ("POST", "/auth/tokens"):
            assert body["auth"]["scope"] == {"system": {"all": True}}
            self.issued += 1
            token = f"token-{self.issued}"
            self.valid_tokens.add(token)
            return Reply(201, {"x-subject-token": token}, {"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}})
        if headers.get("X-Auth-Token") not in self.valid_tokens:
            return Reply(401, {}, {"error": {"code": 401}})
        if path.startswith("/endpoints/"):
            found = [e for e in self.endpoints if e["id"] == path.rsplit("/", 1)[1]]
            return Reply(200, {}, {"endpoint": found[0]}) if found else Reply(404, {}, None)
        if path.startswith("/regions/"):
            region = self.regions.get(path.rsplit("/", 1)[1])
            return Reply(200, {}, {"region": region}) if region else Reply(404, {}, None)
        collections = {
            "/services": ("services", self.services),
            "/endpoints": ("endpoints", self.endpoints),
            "/registered_limits": ("registered_limits", self.registered),
            "/limits": ("limits", self.project_limits),
        }
        key, rows = collections[path]
        return Reply(200, {}, {key: [row for row in rows if all(row.get(k) == v for k, v in query.items())]})

    def paths(self, path):
        return [r for r in self.requests if r[1] == path]


def limits_of(settings=SETTINGS, keystone=None):
    keystone = keystone or FakeKeystone()
    return KeystoneLimits(settings, http=keystone), keystone


def test_given_registered_limits_only_when_reading_then_every_resource_has_its_default():
    source, keystone = limits_of()
    assert source.limits("p1") == dict.fromkeys(RESOURCES, 10)


def test_given_a_project_limit_when_reading_then_it_overrides_the_registered_limit_for_that_project_only():
    source, keystone = limits_of()
    keystone.project_limits.append(
        {"service_id": "svc-glance", "region_id": "RegionOne", "project_id": "p1",
         "resource_name": "image_count_total", "resource_limit": 1}
    )  # fmt: skip
    assert source.limits("p1")["image_count_total"] == 1
    assert source.limits("p2")["image_count_total"] == 10


def test_given_a_resource_with_no_limit_registered_when_reading_then_it_is_limit_zero():
    keystone = FakeKeystone()
    keystone.registered = [r for r in keystone.registered if r["resource_name"] != "image_stage_total"]
    source, _ = limits_of(keystone=keystone)
    limits = source.limits("p1")
    assert limits["image_stage_total"] == 0 and limits["image_size_total"] == 10


def test_given_an_unlimited_registered_limit_when_reading_then_minus_one():
    keystone = FakeKeystone()
    keystone.registered[0]["default_limit"] = -1
    assert limits_of(keystone=keystone)[0].limits("p1")[keystone.registered[0]["resource_name"]] == -1


def test_given_limits_of_another_service_or_region_when_reading_then_they_are_not_ours():
    keystone = FakeKeystone()
    keystone.registered = [
        {**keystone.registered[0], "service_id": "svc-nova", "default_limit": 99},
        {**keystone.registered[0], "region_id": "RegionTwo", "default_limit": 98},
    ]
    assert limits_of(keystone=keystone)[0].limits("p1") == dict.fromkeys(RESOURCES, 0)
    assert ("GET", "/registered_limits", {"service_id": "svc-glance", "region_id": "RegionOne"}) in keystone.requests


def test_given_a_changed_limit_when_reading_again_then_the_new_limit_with_no_new_token_or_endpoint_lookup():
    source, keystone = limits_of()
    assert source.limits("p1")["image_count_total"] == 10
    keystone.registered[2]["default_limit"] = 3
    assert source.limits("p1")["image_count_total"] == 3
    assert keystone.issued == 1 and len(keystone.paths("/endpoints/ep-1")) == 1
    assert len(keystone.paths("/limits")) == 2 and len(keystone.paths("/registered_limits")) == 2


def test_given_concurrent_first_calls_when_reading_then_one_token_and_one_endpoint_lookup():
    source, keystone = limits_of()
    threads = [threading.Thread(target=source.limits, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keystone.issued == 1 and len(keystone.paths("/endpoints/ep-1")) == 1
    assert len(keystone.paths("/limits")) == 8


def test_given_a_revoked_token_when_reading_then_a_new_token_and_the_answer():
    source, keystone = limits_of()
    source.limits("p1")
    keystone.valid_tokens.clear()
    assert source.limits("p1") == dict.fromkeys(RESOURCES, 10)
    assert keystone.issued == 2


def test_given_a_service_type_when_finding_the_endpoint_then_by_service_and_interface_stripped_of_url():
    settings = replace(SETTINGS, endpoint_id=None, endpoint_service_type="image", endpoint_interface="public")
    source, keystone = limits_of(settings)
    assert source.endpoint() == {"service_id": "svc-glance", "region_id": "RegionOne"}
    assert ("GET", "/services", {"type": "image"}) in keystone.requests
    assert ("GET", "/endpoints", {"service_id": "svc-glance", "interface": "public"}) in keystone.requests


def test_given_a_region_name_when_finding_the_endpoint_then_the_region_filters_the_endpoints():
    keystone = FakeKeystone()
    keystone.regions["RegionTwo"] = {"id": "RegionTwo"}
    keystone.endpoints.append({**ENDPOINT, "id": "ep-2", "region_id": "RegionTwo"})
    settings = replace(SETTINGS, endpoint_id=None, endpoint_service_name="glance", endpoint_region_name="RegionTwo")
    source, _ = limits_of(settings, keystone)
    assert source.endpoint() == {"service_id": "svc-glance", "region_id": "RegionTwo"}


@pytest.mark.parametrize(
    "change, settings_change, message",
    [
        (lambda k: None, {"endpoint_id": "nope"}, "Can't find endpoint for nope"),
        (lambda k: k.services.append({**GLANCE, "id": "svc-2"}), {"endpoint_service_type": "image"},
         "Multiple services found"),
        (lambda k: None, {"endpoint_service_type": "volume"}, "Service not found"),
        (lambda k: None, {"endpoint_service_type": "image", "endpoint_region_name": "Mars"}, "Region not found"),
        (lambda k: k.endpoints.append({**ENDPOINT, "id": "ep-3", "region_id": "RegionTwo"}),
         {"endpoint_service_type": "image"}, "Multiple endpoints found"),
        (lambda k: None, {"endpoint_service_type": "image", "endpoint_interface": "internal"}, "Endpoint not found"),
    ],
)  # fmt: skip
def test_given_no_single_endpoint_when_reading_then_limits_unavailable_with_oslo_limits_message(
    change, settings_change, message
):
    keystone = FakeKeystone()
    change(keystone)
    settings = replace(SETTINGS, **({"endpoint_id": None} | settings_change))
    source, _ = limits_of(settings, keystone)
    with pytest.raises(LimitsUnavailable, match=message):
        source.limits("p1")


def test_given_keystone_down_when_reading_then_limits_unavailable():
    keystone = FakeKeystone()
    keystone.down = True
    with pytest.raises(LimitsUnavailable, match="connection refused"):
        limits_of(keystone=keystone)[0].limits("p1")


def test_given_keystone_refuses_the_credentials_when_reading_then_limits_unavailable_naming_the_user():
    keystone = FakeKeystone()

    def refusing(method, url, headers, body):
        if method == "POST":
            return Reply(401, {}, None)
        return keystone(method, url, headers, body)

    with pytest.raises(LimitsUnavailable, match="refused the \\[oslo_limit\\] service credentials of 'glance'"):
        KeystoneLimits(SETTINGS, http=refusing).limits("p1")


def test_given_a_user_without_the_system_reader_role_when_reading_then_limits_unavailable_saying_what_it_needs():
    keystone = FakeKeystone()

    def forbidding(method, url, headers, body):
        reply = keystone(method, url, headers, body)
        return Reply(403, {}, None) if "/endpoints" in url else reply

    with pytest.raises(LimitsUnavailable, match="reader role on the system"):
        KeystoneLimits(SETTINGS, http=forbidding).limits("p1")


def test_given_keystone_failing_then_recovering_when_reading_again_then_the_endpoint_is_looked_up_again():
    keystone = FakeKeystone()
    keystone.down = True
    source, _ = limits_of(keystone=keystone)
    with pytest.raises(LimitsUnavailable):
        source.limits("p1")
    keystone.down = False
    assert source.limits("p1") == dict.fromkeys(RESOURCES, 10)


def keystone_limits_settings(config_dir, **oslo_limit):
    from image_import.settings import load_settings
    from tests.support.config import set_option

    set_option(config_dir, "glance-api.conf", "DEFAULT", "use_keystone_limits", "true")
    for key, value in oslo_limit.items():
        set_option(config_dir, "glance-api.conf", "oslo_limit", key, value)
    return load_settings(config_dir)


def test_given_the_settings_of_a_site_with_keystone_limits_when_choosing_the_source_then_its_oslo_limit_section(
    config_dir,
):
    from image_import.quotas.limits import source

    settings = keystone_limits_settings(
        config_dir, endpoint_id="ep-1", auth_url="http://keystone.test", username="glance", password="pw"
    )
    chosen = source(settings)
    assert isinstance(chosen, KeystoneLimits)
    assert (chosen.settings.endpoint_id, chosen.settings.auth_url) == ("ep-1", "http://keystone.test/v3")


def test_given_a_bad_oslo_limit_section_the_service_does_not_start_naming_the_file_and_line(config_dir):
    from image_import.settings import ConfigError

    with pytest.raises(ConfigError, match=r"glance-api.conf:\d+: use_keystone_limits needs \[oslo_limit\]"):
        keystone_limits_settings(config_dir, endpoint_region_name="RegionOne")


# ---------------------------------------------------------------- the template's KeystoneLimits (issue 21)
OSLO_LIMIT = {"endpoint_id": "ep-1", "auth_url": "http://keystone.test", "username": "glance", "password": "pw"}


def test_given_the_stacks_keystone_limits_switch_on_then_the_limits_are_keystones_whatever_the_file(config_dir):
    from image_import.settings import load_settings
    from tests.support.config import set_option

    for key, value in OSLO_LIMIT.items():  # where and as whom; the file does not turn them on
        set_option(config_dir, "glance-api.conf", "oslo_limit", key, value)

    assert load_settings(config_dir, {"USE_KEYSTONE_LIMITS": "true"}).use_keystone_limits
    assert not load_settings(config_dir, {"USE_KEYSTONE_LIMITS": "false"}).use_keystone_limits
    assert not load_settings(config_dir).use_keystone_limits


def test_given_the_file_turning_keystone_limits_on_under_a_stack_that_says_off_then_the_service_does_not_start(
    config_dir,
):
    """Off would leave the quotas unchecked (or the password unreadable): never silently."""
    from image_import.settings import ConfigError, load_settings

    keystone_limits_settings(config_dir, **OSLO_LIMIT)
    with pytest.raises(ConfigError, match=r"glance-api.conf:\d+: .*KeystoneLimits=true"):
        load_settings(config_dir, {"USE_KEYSTONE_LIMITS": "false"})
    assert load_settings(config_dir, {"USE_KEYSTONE_LIMITS": "true"}).use_keystone_limits
    assert load_settings(config_dir, {"USE_KEYSTONE_LIMITS": ""}).use_keystone_limits  # not deployed: the file's

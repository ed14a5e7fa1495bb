"""The Keystone validator's caches, with a fake Keystone and a fake clock (lifetimes in seconds)."""

from __future__ import annotations

import pytest

from image_import.identity.keystone import KeystoneValidator, Reply
from image_import.models.caller import NotAuthenticated
from image_import.settings import KeystoneSettings
from tests.support.keystone import at

SETTINGS = KeystoneSettings(auth_url="http://keystone/v3", username="glance", password="pw", token_cache_time=300)


class FakeKeystone:
    def __init__(self, token_expires: float, service_expires: float = 10_000):
        self.token_expires, self.service_expires = token_expires, service_expires
        self.requests: list[tuple[str, str]] = []
        self.valid = {"user-token"}

    def __call__(self, method, url, headers, body):
        self.requests.append((method, url))
        if method == "POST":
            token = {"expires_at": at(self.service_expires), "user": {"id": "glance"}}
            return Reply(201, {"x-subject-token": f"service-{len(self.requests)}"}, {"token": token})
        if headers["X-Subject-Token"] not in self.valid:
            return Reply(404, {}, {"error": {"code": 404}})
        token = {
            "expires_at": at(self.token_expires),
            "user": {"id": "u1"},
            "project": {"id": "p1"},
            "roles": [{"name": "Member"}],
        }
        return Reply(200, {}, {"token": token})


def validations(keystone: FakeKeystone) -> int:
    return sum(1 for method, _ in keystone.requests if method == "GET")


def test_given_a_cached_token_past_its_expiry_when_validated_then_keystone_is_asked_again():
    keystone, now = FakeKeystone(token_expires=100), [0.0]
    validator = KeystoneValidator(SETTINGS, keystone, clock=lambda: now[0])
    assert validator.validate("user-token").roles == ("member",)
    now[0] = 99
    validator.validate("user-token")
    assert validations(keystone) == 1
    now[0], keystone.valid = 100, set()  # expired: Keystone now says 404
    with pytest.raises(NotAuthenticated):
        validator.validate("user-token")


def test_given_a_long_lived_token_when_cached_then_for_token_cache_time_at_most():
    keystone, now = FakeKeystone(token_expires=86_400), [0.0]
    validator = KeystoneValidator(SETTINGS, keystone, clock=lambda: now[0])
    validator.validate("user-token")
    now[0] = 300  # a revocation would be seen from here on, as with keystonemiddleware
    validator.validate("user-token")
    assert validations(keystone) == 2


def test_given_the_service_token_near_its_expiry_when_validating_then_a_new_one_is_fetched():
    keystone, now = FakeKeystone(token_expires=86_400, service_expires=1000), [0.0]
    validator = KeystoneValidator(SETTINGS, keystone, clock=lambda: now[0])
    validator.validate("user-token")
    now[0] = 950
    validator._cache.clear()  # only the service token is in question here
    validator.validate("user-token")
    assert [m for m, _ in keystone.requests].count("POST") == 2


def test_given_an_unknown_token_when_validated_twice_then_both_are_asked_not_cached_as_valid():
    keystone = FakeKeystone(token_expires=100)
    validator = KeystoneValidator(SETTINGS, keystone, clock=lambda: 0)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            validator.validate("other")
    assert validations(keystone) == 2

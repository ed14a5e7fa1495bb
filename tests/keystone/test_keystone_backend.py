"""The keystone identity backend against a real Keystone (tests/keystone_server.py)."""

from __future__ import annotations

import pytest

from image_import.identity.authenticate import authenticate
from image_import.identity.keystone import KeystoneValidator
from image_import.models.caller import NotAuthenticated
from image_import.settings import load_settings
from tests.support.config import set_option


@pytest.fixture
def keystone_settings(keystone, config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    for key, value in keystone.authtoken_options().items():
        set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    return load_settings(config_dir)


@pytest.fixture
def validator(keystone_settings):
    return KeystoneValidator(keystone_settings.keystone)


def test_given_a_member_token_when_authenticating_then_its_user_project_and_roles(
    keystone, keystone_settings, validator
):
    context = authenticate(keystone.token(keystone.member), keystone_settings, validator=validator)
    assert (context.user_id, context.project_id) == (keystone.member.id, keystone.member.project_id)
    assert sorted(context.roles) == ["member", "reader"]
    assert (context.service_roles, context.service_user_id) == ((), None)


def test_given_an_admin_token_when_authenticating_then_the_admin_roles_lower_cased(
    keystone, keystone_settings, validator
):
    context = authenticate(keystone.token(keystone.admin), keystone_settings, validator=validator)
    assert (context.user_id, context.project_id) == (keystone.admin.id, keystone.admin.project_id)
    assert "admin" in context.roles
    # admin-ness is the policy's context_is_admin, decided by the API (the authorizer has no notion of it)
    from image_import.models import RequestContext
    from image_import.policy.rules import admin_context

    assert admin_context(RequestContext.of(context, "req-1"), keystone_settings).is_admin


def test_given_a_service_token_too_when_authenticating_then_service_roles_and_service_user(
    keystone, keystone_settings, validator
):
    member, service = keystone.token(keystone.member), keystone.token(keystone.service)
    context = authenticate(member, keystone_settings, service, validator=validator)
    assert context.user_id == keystone.member.id
    assert (context.service_roles, context.service_user_id) == (("service",), keystone.service.id)


def test_given_a_revoked_token_when_validating_then_unauthorized(keystone, validator):
    token = keystone.token(keystone.member)
    keystone.revoke(token)
    with pytest.raises(NotAuthenticated):
        validator.validate(token)


def test_given_an_expired_token_when_validating_then_unauthorized(keystone, keystone_settings):
    import time

    lifetime = 15  # seconds: long enough to see it valid first on a busy machine
    deadline = time.monotonic() + lifetime
    token = keystone.short_lived_token(keystone.member, seconds=lifetime)
    assert KeystoneValidator(keystone_settings.keystone).validate(token).user_id == keystone.member.id
    time.sleep(max(0.0, deadline - time.monotonic()) + 1.5)
    with pytest.raises(NotAuthenticated):
        KeystoneValidator(keystone_settings.keystone).validate(token)  # a fresh cache: Keystone itself says expired


@pytest.mark.parametrize("token", ["not-a-token", "gAAAAABtampered", "x" * 300])
def test_given_a_malformed_token_when_validating_then_unauthorized(validator, token):
    with pytest.raises(NotAuthenticated):
        validator.validate(token)


def test_given_an_invalid_service_token_when_authenticating_then_unauthorized(keystone, keystone_settings, validator):
    with pytest.raises(NotAuthenticated):
        authenticate(keystone.token(keystone.member), keystone_settings, "forged", validator=validator)


def test_given_a_validated_token_when_validated_again_then_keystone_is_not_asked(keystone, validator):
    token = keystone.token(keystone.member)
    first = validator.validate(token)
    calls = validator.calls
    assert validator.validate(token) == first
    assert validator.calls == calls


def test_given_two_tokens_when_validated_then_one_service_token_serves_both(keystone, validator):
    validator.validate(keystone.token(keystone.member))
    validator.validate(keystone.token(keystone.admin))
    assert validator.calls == 3  # one service token, two validations


def test_given_wrong_service_credentials_when_validating_then_keystone_unavailable_not_401(keystone, keystone_settings):
    from dataclasses import replace

    from image_import.identity.keystone import KeystoneUnavailable

    validator = KeystoneValidator(replace(keystone_settings.keystone, password="wrong"))
    with pytest.raises(KeystoneUnavailable):  # the authorizer fails (500): the caller did nothing wrong
        validator.validate(keystone.token(keystone.member))


@pytest.mark.parametrize("scope", [{"system": {"all": True}}, {"domain": {"id": "default"}}])
def test_given_a_system_or_domain_scoped_token_then_the_caller_has_no_project_and_may_do_nothing(
    keystone, keystone_settings, validator, scope
):
    from image_import.identity.authorizer import authorizer_response, caller_from_authorizer
    from image_import.models import Image, RequestContext
    from image_import.policy import access
    from image_import.policy.rules import admin_context

    if "domain" in scope:  # Keystone's bootstrap gives the admin the system role only: add a domain one
        admin_token = keystone.token(keystone.admin)
        role_id = keystone.call("GET", "/roles?name=admin", admin_token)[2]["roles"][0]["id"]
        keystone.call("PUT", f"/domains/default/users/{keystone.admin.id}/roles/{role_id}", admin_token)
    caller = authenticate(keystone.scoped_token(keystone.admin, scope), keystone_settings, validator=validator)
    assert caller.project_id is None and "admin" in caller.roles
    # through the authorizer's answer and back, as the API reads it
    back = caller_from_authorizer(
        authorizer_response(caller, "arn:aws:execute-api:r:1:a/prod/GET/v2/images")["context"]
    )
    context = admin_context(RequestContext.of(back, "req-1"), keystone_settings)
    assert context.project_id is None and not context.is_admin
    public = Image(id="00000000-0000-0000-0000-000000000001", owner="demo", visibility="public")
    assert not access.can_see(context, public, keystone_settings)
    with pytest.raises(Exception, match="add_image"):
        access.require_may_create(context, None, "private", keystone_settings)

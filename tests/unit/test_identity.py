"""Identity: backend choice, the token table's rules, service tokens, the Keystone options."""

from __future__ import annotations

import dataclasses

import pytest
from image_import_dev.tokens import main, parse_ttl

from image_import.identity.authenticate import authenticate, validator_for
from image_import.identity.authorizer import authorizer_response, caller_from_authorizer
from image_import.identity.token_file import TokenFile
from image_import.identity.token_table import TokenTable, hash_token, issue, revoke
from image_import.models import RequestContext
from image_import.models.caller import Caller, NotAuthenticated
from image_import.settings import ConfigError, load_settings
from tests.support.config import set_option


class MemoryStore:
    """The tokens table as a dict: what the domain stores, keyed as DynamoDB keys it."""

    def __init__(self):
        self.items: dict[str, dict] = {}

    def put(self, token_hash, record):
        self.items[token_hash] = dict(record)

    def get(self, token_hash):
        return self.items.get(token_hash)

    def delete(self, token_hash):
        return self.items.pop(token_hash, None) is not None


def test_given_an_issued_token_when_stored_then_only_its_sha256_is_kept():
    store = MemoryStore()
    token = issue(store, "u1", "p1", ["Member", "reader"], ttl=3600, now=1000)
    assert list(store.items) == [hash_token(token)]
    assert token not in repr(store.items)
    assert store.items[hash_token(token)] == {
        "user_id": "u1",
        "project_id": "p1",
        "roles": ["member", "reader"],
        "expires_at": 4600,
    }


def test_given_a_live_token_when_validated_then_its_user_project_and_roles():
    store = MemoryStore()
    token = issue(store, "u1", "p1", ["member"], ttl=60, now=1000)
    assert TokenTable(store, clock=lambda: 1059).validate(token) == Caller("u1", "p1", ("member",))


def test_given_an_expired_token_still_in_the_table_when_validated_then_unauthorized():
    store = MemoryStore()
    token = issue(store, "u1", "p1", ["member"], ttl=60, now=1000)
    with pytest.raises(NotAuthenticated):
        TokenTable(store, clock=lambda: 1060).validate(token)


def test_given_a_revoked_token_when_validated_then_unauthorized():
    store = MemoryStore()
    token = issue(store, "u1", "p1", ["member"], ttl=60, now=1000)
    assert revoke(store, token) is True
    with pytest.raises(NotAuthenticated):
        TokenTable(store, clock=lambda: 1001).validate(token)


def test_given_an_unknown_token_when_validated_then_unauthorized():
    with pytest.raises(NotAuthenticated):
        TokenTable(MemoryStore()).validate("nobody")


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800)])
def test_given_a_ttl_when_parsed_then_seconds(text, seconds):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1h", "12x", "h", ""])
def test_given_a_bad_ttl_when_parsed_then_rejected(text):
    with pytest.raises(ValueError):
        parse_ttl(text)


def test_given_the_cli_when_issuing_then_the_token_is_printed_once_and_valid(capsys):
    store = MemoryStore()
    assert main(["issue", "--user", "u", "--project", "p", "--roles", "member,reader", "--ttl", "1h"], store) == 0
    token = capsys.readouterr().out.strip()
    assert TokenTable(store).validate(token).roles == ("member", "reader")
    assert main(["revoke", token], store) == 0
    assert main(["revoke", token], store) == 1  # gone: nothing to revoke


def test_given_a_service_token_when_authenticating_then_service_roles_and_user_come_from_it(settings):
    validator = TokenFile({"user": Caller("u", "p", ("member",)), "svc": Caller("nova", "service", ("service",))})
    context = authenticate("user", settings, "svc", validator=validator)
    assert (context.user_id, context.roles) == ("u", ("member",))
    assert (context.service_user_id, context.service_roles) == ("nova", ("service",))


def test_given_an_invalid_service_token_when_authenticating_then_unauthorized(settings):
    validator = TokenFile({"user": Caller("u", "p", ("member",))})
    with pytest.raises(NotAuthenticated):
        authenticate("user", settings, "forged", validator=validator)


def test_given_no_token_when_authenticating_then_unauthorized(settings):
    with pytest.raises(NotAuthenticated):
        authenticate(None, settings)


def test_given_the_shipped_configuration_then_the_token_file_backend(settings):
    assert settings.identity_backend == "token_file"
    assert isinstance(validator_for(settings), TokenFile)


def test_given_an_unknown_backend_when_loading_then_the_error_names_file_and_line(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "ldap")
    with pytest.raises(ConfigError, match=r"glance-api.conf:\d+: \[identity\] backend must be one of"):
        load_settings(config_dir)


def test_given_keystone_without_credentials_when_loading_then_the_missing_options_are_named(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    with pytest.raises(ConfigError, match=r"auth_url \(or www_authenticate_uri\), username, password"):
        load_settings(config_dir)


def test_given_keystone_options_when_loading_then_the_v3_endpoint_and_glance_names(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    for key, value in {
        "www_authenticate_uri": "http://keystone:5000/",
        "username": "glance",
        "password": "secret",
        "project_name": "service",
        "user_domain_name": "Default",
        "project_domain_id": "default",
        "token_cache_time": "60",
    }.items():
        set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    keystone = load_settings(config_dir).keystone
    assert keystone is not None
    assert (keystone.auth_url, keystone.username, keystone.project_name) == (
        "http://keystone:5000/v3",
        "glance",
        "service",
    )
    assert (keystone.user_domain_name, keystone.project_domain_id, keystone.token_cache_time) == (
        "Default",
        "default",
        60,
    )


def test_given_many_issued_tokens_then_none_starts_with_a_dash_that_the_cli_would_read_as_an_option():
    store = MemoryStore()
    assert not any(issue(store, "u", "p", ["member"], ttl=60).startswith("-") for _ in range(500))


ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v2/images"


def test_given_a_caller_when_passed_through_the_authorizer_context_then_the_api_reads_the_same_caller():
    caller = Caller("u", "p", ("member", "reader"), ("service",), "nova")
    answer = authorizer_response(caller, ARN)
    assert (
        answer["policyDocument"]["Statement"][0]["Resource"]
        == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
    )
    assert all(isinstance(value, str) for value in answer["context"].values())  # API Gateway's rule
    assert caller_from_authorizer(answer["context"]) == caller


def test_given_no_authorizer_context_then_no_caller():
    assert caller_from_authorizer(None) is None
    assert caller_from_authorizer({"user_id": "", "project_id": "", "roles": "member"}) is None


def test_given_a_caller_then_the_request_context_carries_it_and_the_request_id():
    context = RequestContext.of(Caller("u", "p", ("Member",), ("service",), "nova"), "req-1")
    assert context == RequestContext(
        user_id="u",
        project_id="p",
        roles=["member"],
        service_roles=["service"],
        service_user_id="nova",
        request_id="req-1",
    )


def test_given_roles_in_any_case_and_form_then_the_caller_holds_them_lower_cased_in_a_tuple():
    assert Caller("u", "p", ["Member", " admin ", ""]).roles == ("member", "admin")
    assert Caller("u", "p", ["Admin"]).roles == ("admin",)  # admin-ness is the policy's (context_is_admin)


def test_given_the_dynamodb_backend_without_a_tokens_table_then_the_error_says_so(settings, monkeypatch):
    from image_import import composition

    for name, value in {"IMAGES_TABLE": "i", "TASKS_TABLE": "t", "STAGING_BUCKET": "s", "STORE_BUCKET": "b"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TOKENS_TABLE", raising=False)
    composition.reset()
    try:
        with pytest.raises(ConfigError, match="needs the TOKENS_TABLE environment variable"):
            validator_for(dataclasses.replace(settings, identity_backend="dynamodb"))
    finally:
        composition.reset()

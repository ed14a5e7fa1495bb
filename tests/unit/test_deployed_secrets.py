"""A deployed stack's secrets and hygiene: the Keystone service password from Secrets Manager or SSM
(read once per sandbox), and what only a development stack may do (token_file, Keystone over http)."""

from __future__ import annotations

import json

import pytest

from image_import.identity.keystone import KeystoneUnavailable, KeystoneValidator, Reply, stored_password
from image_import.settings import ConfigError, KeystoneSettings, load_settings
from tests.support.config import set_option
from tests.support.keystone import at

KEYSTONE = dict(auth_url="https://keystone/v3", username="glance")


@pytest.fixture
def aws(mocked_aws):
    return None


# ---------------------------------------------------------------- where the password is
def test_a_secret_string_is_the_password(aws):
    import boto3

    arn = boto3.client("secretsmanager").create_secret(Name="ks", SecretString="s3cret")["ARN"]
    assert stored_password(KeystoneSettings(**KEYSTONE, password=None, password_secret_arn=arn)) == "s3cret"


def test_a_json_secret_gives_its_password_key(aws):
    import boto3

    document = json.dumps({"username": "glance", "password": "from-json"})
    arn = boto3.client("secretsmanager").create_secret(Name="ks", SecretString=document)["ARN"]
    assert stored_password(KeystoneSettings(**KEYSTONE, password=None, password_secret_arn=arn)) == "from-json"


def test_an_ssm_secure_string_is_decrypted(aws):
    import boto3

    boto3.client("ssm").put_parameter(Name="/image-import/ks", Value="from-ssm", Type="SecureString")
    settings = KeystoneSettings(**KEYSTONE, password=None, password_parameter="/image-import/ks")
    assert stored_password(settings) == "from-ssm"


class CountingKeystone:
    """Accepts one password; counts service-token requests."""

    def __init__(self, password: str):
        self.password, self.logins = password, 0

    def __call__(self, method, url, headers, body):
        if method == "POST":
            self.logins += 1
            if body["auth"]["identity"]["password"]["user"]["password"] != self.password:
                return Reply(401, {}, {"error": {"code": 401}})
            return Reply(201, {"x-subject-token": "svc"}, {"token": {"expires_at": at(100), "user": {"id": "g"}}})
        token = {"expires_at": at(10_000), "user": {"id": "u"}, "project": {"id": "p"}, "roles": []}
        return Reply(200, {}, {"token": token})


def test_the_secret_is_read_once_per_sandbox_however_many_service_tokens():
    reads, now = [], [0.0]
    keystone = CountingKeystone("pw")
    settings = KeystoneSettings(**KEYSTONE, password=None, password_secret_arn="arn:secret", token_cache_time=1)

    validator = KeystoneValidator(settings, keystone, clock=lambda: now[0], password=lambda s: reads.append(1) or "pw")
    for step in range(3):  # the service token expires at 100: a new one each time, the secret kept
        now[0] = step * 100.0
        validator.validate(f"user-{step}")

    assert keystone.logins == 3 and len(reads) == 1


def test_a_rotated_secret_is_read_again_once_when_keystone_refuses_the_cached_one():
    secret, now = ["old"], [0.0]
    keystone = CountingKeystone("old")
    settings = KeystoneSettings(**KEYSTONE, password=None, password_secret_arn="arn:secret", token_cache_time=1)
    validator = KeystoneValidator(settings, keystone, clock=lambda: now[0], password=lambda s: secret[0])
    validator.validate("user-1")

    secret[0], keystone.password, now[0] = "new", "new", 200.0  # rotated; our service token expired
    validator.validate("user-2")

    assert keystone.logins == 3  # refused with the old one, accepted with the new one


def test_a_secret_that_cannot_be_read_is_keystone_unavailable_a_500_not_a_401():
    def unreadable(settings):
        raise PermissionError("AccessDeniedException")

    settings = KeystoneSettings(**KEYSTONE, password=None, password_secret_arn="arn:secret")
    validator = KeystoneValidator(settings, CountingKeystone("pw"), clock=lambda: 0, password=unreadable)
    with pytest.raises(KeystoneUnavailable, match="password could not be read"):
        validator.validate("user")


# ---------------------------------------------------------------- the configuration names it
@pytest.fixture
def keystone_conf(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    for key, value in {"auth_url": "https://keystone.example:5000", "username": "glance"}.items():
        set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    return config_dir


def test_the_password_may_be_named_by_a_secret_instead_of_written(keystone_conf):
    set_option(
        keystone_conf, "glance-api.conf", "keystone_authtoken", "password_secret_arn", "arn:aws:secretsmanager:x"
    )
    keystone = load_settings(keystone_conf).keystone
    assert (keystone.password, keystone.password_secret_arn) == (None, "arn:aws:secretsmanager:x")


def test_the_template_parameter_names_where_the_password_is(keystone_conf):
    keystone = load_settings(keystone_conf, {"KEYSTONE_PASSWORD_PARAMETER": "/image-import/ks"}).keystone
    assert (keystone.password, keystone.password_parameter) == (None, "/image-import/ks")


def test_two_password_sources_stop_start_up(keystone_conf):
    set_option(keystone_conf, "glance-api.conf", "keystone_authtoken", "password", "plain")
    with pytest.raises(ConfigError, match="takes one of password, password_parameter, not several"):
        load_settings(keystone_conf, {"KEYSTONE_PASSWORD_PARAMETER": "/ks"})


def test_no_password_source_stops_start_up(keystone_conf):
    with pytest.raises(ConfigError, match=r"needs \[keystone_authtoken\] password \(or password_secret_arn"):
        load_settings(keystone_conf)


# ---------------------------------------------------------------- only a development stack
def test_token_file_is_refused_on_a_deployed_stack_that_is_not_for_development(config_dir):
    with pytest.raises(ConfigError, match="TokenBackend=token_file .* refused on a stack deployed without"):
        load_settings(config_dir, {"IDENTITY_BACKEND": "token_file", "DEVELOPMENT_STACK": "false"})


@pytest.mark.parametrize("environ", [{"DEVELOPMENT_STACK": "true"}, {}, {"DEVELOPMENT_STACK": ""}])
def test_token_file_is_allowed_on_a_development_stack_and_where_nothing_says_deployed(config_dir, environ):
    settings = load_settings(config_dir, {"IDENTITY_BACKEND": "token_file", **environ})
    assert settings.identity_backend == "token_file"


def test_keystone_over_plain_http_is_refused_on_a_deployed_stack(keystone_conf):
    set_option(keystone_conf, "glance-api.conf", "keystone_authtoken", "password", "pw")
    environ = {"KEYSTONE_AUTH_URL": "http://keystone.example:5000"}
    with pytest.raises(ConfigError, match="https:// on a deployed stack"):
        load_settings(keystone_conf, {**environ, "DEVELOPMENT_STACK": "false"})
    assert load_settings(keystone_conf, {**environ, "DEVELOPMENT_STACK": "true"}).keystone is not None
    assert load_settings(keystone_conf, {"DEVELOPMENT_STACK": "false"}).development_stack is False  # https: fine

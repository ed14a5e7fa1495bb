"""settings/oslo_limit.py: Glance's [oslo_limit] options, checked when use_keystone_limits is on."""

from __future__ import annotations

import textwrap

import pytest

from image_import.settings.ini import ConfigError, parse_ini
from image_import.settings.oslo_limit import load_oslo_limit

AUTHTOKEN = """
[keystone_authtoken]
auth_url = http://keystone.test/identity
username = glance
password = service-pw
user_domain_name = Default
project_name = service
project_domain_id = default
"""


def sections(tmp_path, text):
    path = tmp_path / "glance-api.conf"
    path.write_text("[DEFAULT]\nuse_keystone_limits = true\n" + textwrap.dedent(text))
    return parse_ini(path)


def test_given_an_endpoint_id_and_credentials_when_loading_then_they_are_the_settings(tmp_path):
    settings = load_oslo_limit(
        sections(
            tmp_path,
            """
            [oslo_limit]
            endpoint_id = ep-1
            auth_url = http://keystone.test/identity/
            username = glance
            password = limits-pw
            user_domain_id = default
            system_scope = all
            """,
        )
    )
    assert (settings.endpoint_id, settings.auth_url, settings.username) == (
        "ep-1",
        "http://keystone.test/identity/v3",
        "glance",
    )
    assert (settings.password, settings.system_scope, settings.project_name) == ("limits-pw", "all", None)
    assert (settings.endpoint_interface, settings.credentials_section) == ("public", "oslo_limit")


@pytest.mark.parametrize("interface, meant", [("publicURL", "public"), ("internalURL", "internal"), ("admin", "admin")])
def test_given_an_interface_when_loading_then_without_the_url_suffix(tmp_path, interface, meant):
    text = f"[oslo_limit]\nendpoint_service_type = image\nendpoint_interface = {interface}\n" + AUTHTOKEN
    assert load_oslo_limit(sections(tmp_path, text)).endpoint_interface == meant


def test_given_an_unknown_interface_when_loading_then_a_config_error_naming_the_line(tmp_path):
    text = "[oslo_limit]\nendpoint_service_type = image\nendpoint_interface = private\n" + AUTHTOKEN
    with pytest.raises(ConfigError, match=r"glance-api.conf:5: \[oslo_limit\] endpoint_interface must be one of"):
        load_oslo_limit(sections(tmp_path, text))


def test_given_neither_an_endpoint_id_nor_a_service_when_loading_then_a_config_error_at_the_switch(tmp_path):
    text = "[oslo_limit]\nendpoint_region_name = RegionOne\n" + AUTHTOKEN
    with pytest.raises(ConfigError, match=r"glance-api.conf:2: use_keystone_limits needs \[oslo_limit\] endpoint_id"):
        load_oslo_limit(sections(tmp_path, text))


def test_given_no_credentials_in_oslo_limit_when_loading_then_the_keystone_authtoken_service_user(tmp_path):
    settings = load_oslo_limit(sections(tmp_path, "[oslo_limit]\nendpoint_service_name = glance\n" + AUTHTOKEN))
    assert (settings.username, settings.password, settings.credentials_section) == (
        "glance",
        "service-pw",
        "keystone_authtoken",
    )
    assert (settings.auth_url, settings.project_name, settings.project_domain_id) == (
        "http://keystone.test/identity/v3", "service", "default",
    )  # fmt: skip


def test_given_a_system_scope_in_oslo_limit_when_falling_back_then_the_service_user_with_that_scope(tmp_path):
    text = "[oslo_limit]\nendpoint_id = ep-1\nsystem_scope = all\n" + AUTHTOKEN
    settings = load_oslo_limit(sections(tmp_path, text))
    assert (settings.username, settings.system_scope, settings.project_name, settings.project_domain_id) == (
        "glance", "all", None, None,
    )  # fmt: skip


def test_given_the_service_users_password_in_secrets_manager_when_falling_back_then_read_from_there(tmp_path):
    text = AUTHTOKEN.replace("password = service-pw", "password_secret_arn = arn:aws:secretsmanager:x")
    settings = load_oslo_limit(sections(tmp_path, "[oslo_limit]\nendpoint_id = ep-1\n" + text))
    assert (settings.password, settings.password_secret_arn) == (None, "arn:aws:secretsmanager:x")


def test_given_no_credentials_anywhere_when_loading_then_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="needs credentials to read the limits"):
        load_oslo_limit(sections(tmp_path, "[oslo_limit]\nendpoint_id = ep-1\n"))


def test_given_a_username_without_a_password_when_loading_then_a_config_error_naming_what_is_missing(tmp_path):
    text = "[oslo_limit]\nendpoint_id = ep-1\nusername = glance\nauth_url = http://k/v3\n" + AUTHTOKEN
    with pytest.raises(ConfigError, match=r"needs \[oslo_limit\] password"):
        load_oslo_limit(sections(tmp_path, text))


def test_given_two_password_sources_when_loading_then_a_config_error(tmp_path):
    text = (
        "[oslo_limit]\nendpoint_id = ep-1\nusername = g\nauth_url = http://k\npassword = a\npassword_parameter = /p\n"
    )
    with pytest.raises(
        ConfigError, match=r"glance-api.conf:8: \[oslo_limit\] takes one of password, password_parameter"
    ):
        load_oslo_limit(sections(tmp_path, text))


@pytest.mark.parametrize(
    "extra, message",
    [
        ("system_scope = domain\n", "system_scope must be 'all'"),
        ("system_scope = all\nproject_name = service\n", "system_scope or project_name, not both"),
        ("auth_type = token\n", "auth_type must be one of password, v3password"),
        ("timeout = soon\n", r"glance-api.conf:\d+: \[oslo_limit\] timeout must be an integer"),
    ],
)
def test_given_a_bad_credential_option_when_loading_then_a_config_error(tmp_path, extra, message):
    text = "[oslo_limit]\nendpoint_id = ep-1\nusername = g\nauth_url = http://k\npassword = a\n" + extra
    with pytest.raises(ConfigError, match=message):
        load_oslo_limit(sections(tmp_path, text))


def test_given_a_timeout_when_loading_then_the_http_timeout(tmp_path):
    text = "[oslo_limit]\nendpoint_id = ep-1\nusername = g\nauth_url = http://k\npassword = a\ntimeout = 9\n"
    assert load_oslo_limit(sections(tmp_path, text)).http_connect_timeout == 9.0

"""Operator configuration: Glance's formats, and a clear stop on a malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_import.settings import ConfigError, ConfValue, load_settings, parse_dict, parse_list
from tests.support.config import set_option


def value(text: str) -> ConfValue:
    return ConfValue(text, Path("glance-image-import.conf"), 7)


def test_shipped_configuration_loads_with_both_plugins_in_order(settings):
    assert settings.image_import_plugins == ("no_op", "inject_image_metadata")
    assert settings.enabled_import_methods == ("glance-direct", "web-download")
    assert settings.tokens["member-token"].roles == ("member", "reader")
    assert settings.tokens["admin-token"].project_id == "admin"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[no_op, inject_image_metadata]", ["no_op", "inject_image_metadata"]),
        ("no_op,inject_image_metadata", ["no_op", "inject_image_metadata"]),
        ("['no_op', \"x\"]", ["no_op", "x"]),
        ("[]", []),
    ],
)
def test_lists_are_read_with_or_without_brackets_and_quotes(text, expected):
    assert parse_list(value(text)) == expected


def test_an_unclosed_list_is_an_error_naming_file_and_line():
    with pytest.raises(ConfigError, match=r"glance-image-import.conf:7"):
        parse_list(value("[no_op, x"))


@pytest.mark.parametrize(
    "text, expected",
    [
        # Glance's documented form: the quotes must not end up in the property names or values
        ('"property1":"value1","property2":"value2"', {"property1": "value1", "property2": "value2"}),
        ("property1:value1,property2:value2", {"property1": "value1", "property2": "value2"}),
        ("url:http://example.com:8080", {"url": "http://example.com:8080"}),
        (" a : 1 , b : 2 ", {"a": "1", "b": "2"}),
        # as oslo.config: a piece without ':' is glued to the next piece
        ("a:1,2,b:3", {"a": "1", "2,b": "3"}),
    ],
)
def test_inject_dictionary_accepts_glance_quoted_and_plain_forms(text, expected):
    assert parse_dict(value(text)) == expected


@pytest.mark.parametrize("text", ["a:1,a:2", ":1", "a:1,b"])
def test_a_bad_dictionary_is_an_error_naming_file_and_line(text):
    with pytest.raises(ConfigError, match=r"glance-image-import.conf:7"):
        parse_dict(value(text))


def test_an_option_outside_any_section_stops_startup_naming_the_line(config_dir):
    path = config_dir / "glance-api.conf"
    path.write_text("# comment\nenabled_import_methods = [glance-direct]\n")
    with pytest.raises(ConfigError, match=rf"{path}:2"):
        load_settings(config_dir)


def test_a_line_that_is_not_an_option_stops_startup_naming_the_line(config_dir):
    path = config_dir / "glance-image-import.conf"
    path.write_text("[image_import_opts]\nimage_import_plugins = [no_op]\nthis is not an option\n")
    with pytest.raises(ConfigError, match=rf"{path}:3"):
        load_settings(config_dir)


def test_a_bad_integer_is_reported_with_file_and_line(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_size_cap", "lots")
    with pytest.raises(ConfigError, match=r"glance-api.conf:\d+: \[DEFAULT\] image_size_cap must be an integer"):
        load_settings(config_dir)


def test_an_unsupported_import_method_is_refused_at_startup(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "enabled_import_methods", "[glance-direct, copy-image]")
    with pytest.raises(ConfigError, match="copy-image"):
        load_settings(config_dir)


def test_api_conf_overrides_import_conf(config_dir):
    set_option(config_dir, "glance-api.conf", "image_import_opts", "image_import_plugins", "[no_op]")
    assert load_settings(config_dir).image_import_plugins == ("no_op",)


def test_malformed_token_yaml_names_file_and_line(config_dir):
    path = config_dir / "local-tokens.yaml"
    path.write_text("admin-token:\n  user_id: admin\n  roles: [admin\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_settings(config_dir)


def test_a_token_without_a_project_names_its_line(config_dir):
    path = config_dir / "local-tokens.yaml"
    path.write_text(
        "a-token:\n  user_id: a\n  project_id: p\n  roles: [member]\nbad-token:\n  user_id: b\n  roles: []\n"
    )
    with pytest.raises(ConfigError, match=rf"{path}:5: token 'bad-token' lacks project_id"):
        load_settings(config_dir)


def test_a_policy_rule_that_is_not_a_string_names_its_line(config_dir):
    path = config_dir / "policy.yaml"
    path.write_text('"get_image": ""\n"add_image": [1, 2]\n')
    with pytest.raises(ConfigError, match=rf"{path}:2"):
        load_settings(config_dir)


def test_a_protections_file_missing_an_operation_stops_startup(config_dir):
    (config_dir / "protections.conf").write_text("[^x_.*]\ncreate = admin\nread = admin\nupdate = admin\n")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "protections.conf")
    with pytest.raises(ConfigError, match="lacks the 'delete' option"):
        load_settings(config_dir)


def test_a_protections_section_mixing_anyone_and_no_one_stops_startup(config_dir):
    (config_dir / "protections.conf").write_text("[.*]\ncreate = @,!\nread = @\nupdate = @\ndelete = @\n")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "protections.conf")
    with pytest.raises(ConfigError, match=r"protections.conf:2"):
        load_settings(config_dir)


def test_the_shipped_protections_file_is_valid(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "property-protections.conf")
    assert load_settings(config_dir).property_protection_file == config_dir / "property-protections.conf"


def test_a_protections_file_is_read_and_checked_once_with_the_settings_in_file_order(config_dir):
    (config_dir / "protections.conf").write_text(
        "[^x_.*]\ncreate = admin, member\nread = @\nupdate = admin\ndelete = !\n\n[.*]\n"
        "create = admin\nread = admin\nupdate = admin\ndelete = admin\n"
    )
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "protections.conf")
    protections = load_settings(config_dir).property_protections
    assert protections is not None
    assert [rule.pattern.pattern for rule in protections] == ["^x_.*", ".*"]
    assert protections[0].rules == {"create": "admin, member", "read": "@", "update": "admin", "delete": "!"}


def test_without_a_protections_file_there_are_no_protections(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "")
    settings = load_settings(config_dir)
    assert (settings.property_protection_file, settings.property_protections) == (None, None)


def test_a_missing_api_conf_stops_startup(config_dir):
    (config_dir / "glance-api.conf").unlink()
    with pytest.raises(ConfigError, match="glance-api.conf: missing"):
        load_settings(config_dir)


def test_given_import_filtering_opts_when_loaded_then_glances_lists_and_allowed_networks_are_read(config_dir):
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", "[443, 8443]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "disallowed_hosts", "[internal.example.com]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[10.20.0.0/16, fd12::/48]")
    uri_filter = load_settings(config_dir).uri_filter
    assert uri_filter.allowed_ports == (443, 8443)
    assert uri_filter.disallowed_hosts == ("internal.example.com",)
    assert [str(n) for n in uri_filter.allowed_networks] == ["10.20.0.0/16", "fd12::/48"]
    assert uri_filter.allowed_schemes == ("http", "https")


@pytest.mark.parametrize(
    "option, text, complaint",
    [("allowed_ports", "[80, http]", "ports 1-65535"), ("disallowed_ports", "[0]", "ports 1-65535"),
     ("allowed_networks", "[10.0.0.0/33]", "CIDR")],
)  # fmt: skip
def test_given_a_bad_filtering_option_when_loaded_then_the_error_names_file_and_value(
    config_dir, option, text, complaint
):
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", option, text)
    with pytest.raises(ConfigError, match=rf"glance-api.conf:\d+: .*{complaint}"):
        load_settings(config_dir)


def test_given_max_api_download_size_when_loaded_then_it_is_read(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "max_api_download_size", "1000")
    assert load_settings(config_dir).max_api_download_size == 1000


def test_the_environment_overrides_the_token_backend_and_keystone_url(config_dir):
    # what the template's TokenBackend and KeystoneUrl parameters set on the authorizer
    set_option(config_dir, "glance-api.conf", "keystone_authtoken", "auth_url", "https://file.example:5000")
    set_option(config_dir, "glance-api.conf", "keystone_authtoken", "username", "glance")
    set_option(config_dir, "glance-api.conf", "keystone_authtoken", "password", "secret")
    environ = {"IDENTITY_BACKEND": "keystone", "KEYSTONE_AUTH_URL": "https://param.example:5000"}
    settings = load_settings(config_dir, environ)
    assert settings.identity_backend == "keystone"
    assert settings.keystone.auth_url == "https://param.example:5000/v3"
    assert load_settings(config_dir).identity_backend == "token_file"  # the shipped file's choice


def test_empty_overrides_leave_the_files_in_charge(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "dynamodb")
    settings = load_settings(config_dir, {"IDENTITY_BACKEND": "", "KEYSTONE_AUTH_URL": ""})
    assert settings.identity_backend == "dynamodb" and settings.keystone is None


def test_a_bad_backend_in_the_environment_names_the_variable(config_dir):
    with pytest.raises(ConfigError, match=r"^environment variable IDENTITY_BACKEND: \[identity\] backend must be"):
        load_settings(config_dir, {"IDENTITY_BACKEND": "ldap"})


def test_keystone_by_parameter_without_the_service_user_says_what_is_missing(config_dir):
    with pytest.raises(ConfigError, match="needs \\[keystone_authtoken\\] username, password"):
        load_settings(config_dir, {"IDENTITY_BACKEND": "keystone", "KEYSTONE_AUTH_URL": "https://k.example"})


def test_the_tag_quota_is_read_and_checked(config_dir):
    assert load_settings(config_dir).image_tag_quota == 128  # Glance's default
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_tag_quota", "-1")
    assert load_settings(config_dir).image_tag_quota == -1  # unlimited
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_tag_quota", "-5")
    with pytest.raises(ConfigError, match="glance-api.conf:"):
        load_settings(config_dir)


def test_the_property_quota_defaults_to_glances(config_dir):
    assert load_settings(config_dir).image_property_quota == 128
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_property_quota", "-1")
    assert load_settings(config_dir).image_property_quota == -1


def test_direct_upload_urls_live_fifteen_minutes_unless_configured(config_dir):
    assert load_settings(config_dir).upload_url_lifetime == 900
    set_option(config_dir, "glance-image-import.conf", "direct_upload", "url_lifetime", "120")
    assert load_settings(config_dir).upload_url_lifetime == 120


@pytest.mark.parametrize(
    ("text", "complaint"), [("0", "at least 1"), ("604801", "at most 604800"), ("soon", "integer")]
)
def test_a_url_lifetime_s3_cannot_sign_stops_startup_naming_the_line(config_dir, text, complaint):
    set_option(config_dir, "glance-api.conf", "direct_upload", "url_lifetime", text)
    with pytest.raises(ConfigError, match=rf"glance-api.conf:\d+: .*{complaint}"):
        load_settings(config_dir)

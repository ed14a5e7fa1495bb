"""Options declared once (settings/options.py): parsed, bounded and defaulted as declared; what the files
hold that nothing declares is a warning naming the file, the line and the closest known name."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from image_import.settings import OPTIONS, ConfigError, ConfValue, Settings, load_settings, parse_option
from image_import.settings.options import BY_FIELD, Kind, option
from tests.support.config import set_option
from tests.support.paths import ROOT

SHIPPED = [ROOT / "config", *sorted(p for p in (ROOT / "config" / "examples").iterdir() if p.is_dir())]


def _value(text: str, path: str = "glance-api.conf", line: int = 7) -> ConfValue:
    return ConfValue(text, Path(path), line)


# --- parsing, as declared


@pytest.mark.parametrize(
    ("section", "name", "text", "complaint"),
    [
        ("DEFAULT", "image_size_cap", "lots", r"\[DEFAULT\] image_size_cap must be an integer, got 'lots'"),
        ("DEFAULT", "limit_param_default", "0", r"\[DEFAULT\] limit_param_default must be at least 1, got 0"),
        ("direct_upload", "url_lifetime", "604801", r"\[direct_upload\] url_lifetime must be at most 604800"),
        ("DEFAULT", "enable_image_import", "maybe", r"\[DEFAULT\] enable_image_import must be true or false"),
        ("DEFAULT", "enabled_import_methods", "[glance-direct, ftp]", r"must be one of glance-direct, web-d"),
        ("identity", "backend", "ldap", r"\[identity\] backend must be one of token_file, dynamodb, keystone"),
        ("import_filtering_opts", "allowed_ports", "[80, 70000]", r"allowed_ports must hold ports 1-65535"),
        ("DEFAULT", "hashing_algorithm", "crc32", r"\[DEFAULT\] hashing_algorithm unknown hashing algorithm"),
    ],
)
def test_a_value_that_is_not_what_its_option_declares_names_the_file_line_and_option(section, name, text, complaint):
    with pytest.raises(ConfigError, match=rf"^glance-api.conf:7: .*{complaint}"):
        parse_option(option(section, name), _value(text))


def test_values_are_read_in_their_declared_types():
    assert parse_option(option("DEFAULT", "image_size_cap"), _value(" 1024 ")) == 1024
    assert parse_option(option("DEFAULT", "show_image_direct_url"), _value("yes")) is True
    assert parse_option(option("DEFAULT", "disabled_notifications"), _value("[image, task]")) == ("image", "task")
    assert parse_option(option("import_filtering_opts", "allowed_ports"), _value("[443, 8443]")) == (443, 8443)
    assert parse_option(option("keystone_authtoken", "http_connect_timeout"), _value("3")) == 3.0
    assert parse_option(option("DEFAULT", "enabled_backends"), _value("a:s3, b:s3")) == {"a": "s3", "b": "s3"}


def test_a_blank_value_of_an_option_that_allows_it_means_its_default():
    assert parse_option(option("DEFAULT", "public_endpoint"), _value("")) is None
    assert parse_option(option("DEFAULT", "public_endpoint"), _value("https://images.example/")) == (
        "https://images.example"
    )
    assert parse_option(option("DEFAULT", "default_publisher_id"), _value("")) == "image.localhost"


def test_an_int_bound_from_the_declaration_stops_start_up(config_dir):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "max_bytes_per_pass", "1024")
    with pytest.raises(ConfigError, match=r"glance-image-import.conf:\d+: \[image_import_opts\] max_bytes_per_pass "):
        load_settings(config_dir)


def test_an_environment_override_is_parsed_as_its_option_is(config_dir):
    with pytest.raises(
        ConfigError, match=r"^environment variable USE_KEYSTONE_LIMITS: \[DEFAULT\] use_keystone_limits must be true"
    ):
        load_settings(config_dir, {"USE_KEYSTONE_LIMITS": "maybe"})


# --- defaults, from the declarations


def test_settings_defaults_are_the_declared_defaults():
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    for name, declared in BY_FIELD.items():
        assert name in fields, f"{declared.label} fills Settings.{name}, which does not exist"
        assert fields[name].default == declared.default, declared.label


def test_an_api_file_without_options_loads_every_declared_default(tmp_path):
    (tmp_path / "glance-api.conf").write_text("[DEFAULT]\n")
    settings = load_settings(tmp_path)
    for name, declared in BY_FIELD.items():
        assert getattr(settings, name) == declared.default, declared.label
    assert settings.warnings == ()


def test_every_option_is_declared_once_with_help():
    labels = [o.label for o in OPTIONS]
    assert len(labels) == len(set(labels))
    assert all(o.help for o in OPTIONS)
    assert all(o.kind in get_args(Kind) for o in OPTIONS)


def test_the_environment_overrides_are_the_declared_ones():
    from image_import.settings import ENVIRONMENT_OVERRIDES

    assert {variable for variable, _, _ in ENVIRONMENT_OVERRIDES} == {
        "IDENTITY_BACKEND",
        "KEYSTONE_AUTH_URL",
        "KEYSTONE_PASSWORD_SECRET_ARN",
        "KEYSTONE_PASSWORD_PARAMETER",
        "USE_KEYSTONE_LIMITS",
    }
    for variable, section, name in ENVIRONMENT_OVERRIDES:
        assert option(section, name).environment == variable


# --- unknown names: warnings naming the file, the line and the closest known name


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.strip().startswith(text))


def test_a_misspelt_option_is_a_warning_with_file_line_and_the_known_name(config_dir, caplog):
    # a new user's typo: enabled_import_methods without its s silently dropped web-download
    path = config_dir / "glance-image-import.conf"
    path.write_text("[DEFAULT]\nenabled_import_method = [glance-direct, web-download]\n" + path.read_text())
    with caplog.at_level(logging.WARNING, logger="image_import.settings"):
        settings = load_settings(config_dir)
    expected = (
        f"{path}:2: unknown option enabled_import_method in [DEFAULT], ignored (did you mean enabled_import_methods?)"
    )
    assert settings.warnings == (expected,)
    assert expected in caplog.text


def test_a_misspelt_section_is_a_warning_with_file_line_and_the_known_name(config_dir, caplog):
    # a new user's typo: [import_filtering_opt] silently left the filter at its defaults
    path = config_dir / "glance-api.conf"
    path.write_text(path.read_text() + "\n[import_filtering_opt]\nallowed_hosts = [mirror.example.com]\n")
    with caplog.at_level(logging.WARNING, logger="image_import.settings"):
        settings = load_settings(config_dir)
    line = _line_of(path, "[import_filtering_opt]")
    expected = f"{path}:{line}: unknown section [import_filtering_opt], ignored (did you mean [import_filtering_opts]?)"
    assert settings.warnings == (expected,)
    assert expected in caplog.text


def test_a_name_like_no_known_one_says_it_is_not_read(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "workers", "4")
    (warning,) = load_settings(config_dir).warnings
    assert warning.endswith("unknown option workers in [DEFAULT], ignored (this service does not read it)")


def test_a_store_section_takes_the_store_options(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "enabled_backends", "fast:s3, cheap:s3")
    set_option(config_dir, "glance-api.conf", "glance_store", "default_backend", "fast")
    set_option(config_dir, "glance-api.conf", "cheap", "s3_store_bucket", "cheap-bucket")
    set_option(config_dir, "glance-api.conf", "cheap", "s3_store_regoin_name", "eu-west-1")
    (warning,) = load_settings(config_dir).warnings
    assert "unknown option s3_store_regoin_name in [cheap], ignored (did you mean s3_store_region_name?)" in warning


def test_a_section_named_after_a_configured_plugin_is_the_plugins_own(config_dir):
    set_option(config_dir, "glance-image-import.conf", "no_op", "anything", "goes")
    assert load_settings(config_dir).warnings == ()


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_configurations_warn_nothing(shipped, caplog):
    with caplog.at_level(logging.WARNING, logger="image_import.settings"):
        assert load_settings(shipped).warnings == ()
    assert caplog.text == ""


# --- cold start


def test_loading_the_settings_does_not_import_pydantic():
    # the authorizer loads them on its first request and never needs pydantic (~100 ms to import)
    code = (
        "import sys; from image_import.settings import load_settings; "
        f"load_settings({str(ROOT / 'config')!r}); assert 'pydantic' not in sys.modules, 'pydantic imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)

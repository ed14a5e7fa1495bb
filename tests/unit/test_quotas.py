"""What an image counts against its owner's quotas, the claims' arithmetic, the configured limits, and
Glance's 413 words."""

from __future__ import annotations

import pytest

from image_import.models import Image
from image_import.models.quota import MIB, RESOURCES, Claim, OverLimit, changes, contribution, counted
from image_import.quotas import admission
from image_import.settings import ConfigError, load_settings
from image_import.settings.limits import LIMIT_NAMES
from tests.support.config import set_option


def image(**fields) -> Image:
    return Image(id="i", owner="p", **fields)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, {"image_count_total": 1}),  # queued
        ({"status": "saving"}, {"image_count_total": 1, "image_count_uploading": 1}),
        (
            {"status": "uploading", "size": 7},
            {"image_count_total": 1, "image_count_uploading": 1, "image_stage_total": 7},
        ),
        (
            {"status": "importing", "size": 7},
            {"image_count_total": 1, "image_count_uploading": 1, "image_stage_total": 7},
        ),
        ({"status": "active", "size": 7}, {"image_count_total": 1, "image_size_total": 7}),
        ({"status": "deactivated", "size": 7}, {"image_count_total": 1, "image_size_total": 7}),
        # multi-store: once per store holding it
        ({"status": "active", "size": 7, "stores": ["a", "b"]}, {"image_count_total": 1, "image_size_total": 14}),
        # being copied to more stores: staging and one upload too (Glance's os_glance_importing_to_stores)
        (
            {"status": "active", "size": 7, "stores": ["a"], "properties": {"os_glance_importing_to_stores": "b"}},
            {"image_count_total": 1, "image_size_total": 7, "image_stage_total": 7, "image_count_uploading": 1},
        ),
        ({"status": "killed", "size": 7}, {}),
    ],
)
def test_what_an_image_counts(fields, expected):
    assert contribution(image(**fields)) == expected


def test_an_image_without_an_owner_counts_for_nobody():
    assert contribution(Image(id="i", status="active", size=5)) == {}


def test_a_write_moves_only_what_changed_and_a_new_owner_takes_the_count():
    before = counted(image(status="uploading", size=5))
    assert changes(before, counted(image(status="importing", size=5))) == {}
    assert changes(before, counted(image(status="active", size=5))) == {
        "p": {"image_stage_total": -5, "image_count_uploading": -1, "image_size_total": 5}
    }
    moved = Image(id="i", owner="q", status="uploading", size=5)
    assert changes(before, counted(moved)) == {
        "p": {"image_count_total": -1, "image_count_uploading": -1, "image_stage_total": -5},
        "q": {"image_count_total": 1, "image_count_uploading": 1, "image_stage_total": 5},
    }


def test_a_claim_is_oslo_limits_usage_plus_delta_over_limit():
    count = Claim("image_count_total", limit=2, delta=1)
    assert count.allows(1, own_change=1) and not count.allows(2, own_change=1)
    after = Claim("image_count_uploading", limit=1, after_write=True)  # the write's own +1 counts
    assert after.allows(0, own_change=1) and not after.allows(1, own_change=1)
    size = Claim("image_size_total", limit=5, delta=3)  # MiB, usage rounded down as Glance
    assert size.allows(3 * MIB - 1, 0) and not size.allows(3 * MIB, 0)
    assert Claim("image_count_total", limit=0, delta=1).highest_counter(1) < 0  # no usage can pass


def test_the_413_is_glances_words():
    over = OverLimit("p", [Claim("image_stage_total", 5, 3)], {"image_stage_total": 3 * MIB}, {})
    assert admission.message(over) == (
        "The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota "
        "threshold was breached.\n\nThe response body:\nProject p is over a limit for [Resource image_stage_total "
        "is over limit of 5 due to current usage 3 and delta 3]"
    )


def test_the_limit_names_are_the_counted_resources():
    assert LIMIT_NAMES == RESOURCES


# ---- configured limits
def test_without_a_section_or_file_there_are_no_quotas(settings):
    assert not settings.quotas_enabled and admission.for_create(settings, "p") == []


def test_the_section_applies_to_every_project_and_the_file_overrides_it(config_dir):
    set_option(config_dir, "glance-api.conf", "image_limits", "image_count_total", "4")
    (config_dir / "image-limits.yaml").write_text("big:\n  image_count_total: 40\n  image_size_total: -1\n")
    settings = load_settings(config_dir)
    assert settings.configured_limits.limits("small") == {
        "image_size_total": -1, "image_stage_total": -1, "image_count_total": 4, "image_count_uploading": -1
    }  # fmt: skip
    assert settings.configured_limits.limits("big")["image_count_total"] == 40
    # unlimited makes no claim; a limit does
    assert admission.for_upload(settings, "big", 10 * MIB) == []
    assert admission.for_create(settings, "small") == [Claim("image_count_total", 4, 1)]


@pytest.mark.parametrize(
    "section, value, file, message",
    [
        ("image_limits", ("image_count", "3"), None, "is not a limit"),
        ("image_limits", ("image_count_total", "many"), None, r"\[image_limits\] image_count_total must be an integer"),
        ("image_limits", ("image_count_total", "-2"), None, "must be at least -1"),
        (None, None, "p:\n  image_size_total: big\n", "must be an integer of at least -1"),
        (None, None, "p:\n  images: 3\n", "is not a limit"),
        (None, None, "p: 3\n", "must map limit names"),
    ],
)
def test_bad_limits_stop_the_service_naming_the_place(config_dir, section, value, file, message):
    if section:
        set_option(config_dir, "glance-api.conf", section, *value)
    if file:
        (config_dir / "image-limits.yaml").write_text(file)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_dir)


def test_keystone_limits_and_configured_ones_are_not_both_allowed(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "use_keystone_limits", "true")
    set_option(config_dir, "glance-api.conf", "image_limits", "image_count_total", "3")
    with pytest.raises(ConfigError, match="use_keystone_limits reads the limits from Keystone"):
        load_settings(config_dir)


def test_a_request_reads_its_projects_limits_once_for_its_precheck_and_its_write(config_dir, monkeypatch):
    """Keystone's limits are two HTTP reads: the precheck's are the write's claims' too."""
    from image_import.images.catalog import create_image
    from tests.support.fakes import fake_ports
    from tests.support.imports import MEMBER

    set_option(config_dir, "glance-api.conf", "image_limits", "image_count_total", "1")
    settings, ports, reads = load_settings(config_dir), fake_ports(), []
    real = admission.limits_of
    monkeypatch.setattr(admission, "limits_of", lambda project, s: reads.append(project) or real(project, s))
    create_image(MEMBER, {"name": "one"}, settings, ports)
    assert reads == ["demo"]
    with pytest.raises(Exception, match="image_count_total is over limit of 1"):
        create_image(MEMBER, {"name": "two"}, settings, ports)

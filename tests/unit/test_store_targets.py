"""Which stores an import writes, and what the image says while it does (stores/targets.py, stores/marks.py)."""

from __future__ import annotations

import pytest

from image_import.errors import BadRequest, Conflict
from image_import.models import Image
from image_import.settings import ConfigError, load_settings
from image_import.stores import marks, targets
from tests.support.config import set_option
from tests.support.multi_store import configure_stores


@pytest.fixture
def stores(config_dir):
    return load_settings(configure_stores(config_dir))


def test_no_stores_means_the_default_store(stores):
    assert targets.requested_stores({}, None, stores) == ["fast"]


def test_the_header_names_one_store(stores):
    assert targets.requested_stores({}, "edge", stores) == ["edge"]


def test_all_stores_is_every_store_in_configured_order(stores):
    assert targets.requested_stores({"all_stores": True}, None, stores) == ["fast", "cheap", "edge"]


def test_a_store_named_twice_is_written_once(stores):
    assert targets.requested_stores({"stores": ["edge", "edge", "cheap"]}, None, stores) == ["edge", "cheap"]


@pytest.mark.parametrize(
    "body, header, error",
    [
        ({"stores": ["x"]}, None, Conflict),
        ({}, "x", Conflict),
        ({"stores": [1]}, None, Conflict),
        ({"stores": ["fast"], "all_stores": True}, None, BadRequest),
        ({"all_stores": True}, "fast", BadRequest),
        ({"stores": ["fast"]}, "cheap", BadRequest),
        ({"stores": []}, None, BadRequest),
    ],
)
def test_contradicting_or_unknown_stores_are_refused(stores, body, header, error):
    with pytest.raises(error):
        targets.requested_stores(body, header, stores)


def test_copy_targets_skip_present_stores_with_all_stores_and_refuse_them_otherwise():
    assert targets.copy_targets(["fast", "cheap", "edge"], ["fast"], all_stores=True) == ["cheap", "edge"]
    assert targets.copy_targets(["cheap"], ["fast"], all_stores=False) == ["cheap"]
    with pytest.raises(BadRequest, match="Image is already present at store 'fast'"):
        targets.copy_targets(["cheap", "fast"], ["fast"], all_stores=False)


def test_job_fields_of_an_import_and_of_a_copy():
    assert targets.job_stores("glance-direct", [None]) == {}
    assert targets.job_stores("glance-direct", ["fast", "cheap"]) == {
        "stores": ["fast", "cheap"],
        "copy_targets": ["cheap"],
    }
    assert targets.job_stores("copy-image", ["cheap"], "fast") == {
        "stores": ["cheap"],
        "copy_targets": ["cheap"],
        "source_store": "fast",
    }


def test_each_finished_store_joins_stores_heaviest_first_and_leaves_the_importing_list(stores):
    image = Image(
        id="i", properties={"os_glance_importing_to_stores": "fast,cheap,edge", "os_glance_failed_import": ""}
    )
    marks.store_written(image, "edge", stores)
    marks.store_written(image, "fast", stores)
    assert image.stores == ["fast", "edge"]
    assert image.properties["os_glance_importing_to_stores"] == "cheap"
    marks.store_failed(image, "cheap")
    assert image.properties == {"os_glance_importing_to_stores": "", "os_glance_failed_import": "cheap"}
    assert image.to_api()["stores"] == "fast,edge"


def test_an_image_of_a_single_store_site_shows_no_stores():
    assert "stores" not in Image(id="i").to_api()


def test_copy_image_needs_several_stores(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "enabled_import_methods", "[glance-direct, copy-image]")
    with pytest.raises(ConfigError, match="copy-image .* needs enabled_backends"):
        load_settings(config_dir)

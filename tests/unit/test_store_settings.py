"""Glance's multi-store options: enabled_backends, default_backend, one section per store."""

from __future__ import annotations

import pytest

from image_import.api.routes.versions import versions_document
from image_import.errors import NotFound
from image_import.settings import ConfigError, load_settings
from image_import.stores.info import stores_document
from tests.support.config import set_option
from tests.support.multi_store import CHEAP_BUCKET, EDGE_BUCKET, EDGE_REGION, configure_stores

CONF = "glance-api.conf"


def test_without_enabled_backends_the_site_has_one_store(settings):
    assert settings.stores == () and settings.default_backend is None and not settings.multi_store


def test_each_store_reads_its_section(config_dir):
    settings = load_settings(configure_stores(config_dir))
    assert [s.id for s in settings.stores] == ["fast", "cheap", "edge"]
    assert settings.default_backend == "fast"
    fast, cheap, edge = settings.stores
    assert (fast.bucket, fast.weight, fast.description) == (None, 100, "Fast store")
    assert (cheap.bucket, cheap.region, cheap.weight) == (CHEAP_BUCKET, None, 50)
    assert (edge.bucket, edge.region, edge.type) == (EDGE_BUCKET, EDGE_REGION, "s3")


def test_stores_are_ordered_heaviest_first(config_dir):
    settings = load_settings(configure_stores(config_dir))
    assert settings.by_weight(["edge", "fast", "cheap"]) == ["fast", "cheap", "edge"]
    set_option(config_dir, CONF, "edge", "weight", "500")
    assert load_settings(config_dir).by_weight(["cheap", "fast", "edge"]) == ["edge", "fast", "cheap"]


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("DEFAULT", "enabled_backends", "fast:s3, cheap:file", "type 'file'"),
        ("DEFAULT", "enabled_backends", "os_glance_staging_store:s3, fast:s3", "reserved"),
        ("glance_store", "default_backend", "nowhere", "not in enabled_backends"),
        ("glance_store", "default_backend", "", "needs \\[glance_store\\] default_backend"),
        ("cheap", "s3_store_bucket", "", "needs s3_store_bucket"),
        ("edge", "s3_store_bucket", CHEAP_BUCKET, "the same bucket"),
        ("edge", "weight", "heavy", "glance-api.conf"),
    ],
)
def test_a_bad_store_configuration_stops_start_up(config_dir, section, key, value, message):
    configure_stores(config_dir)
    set_option(config_dir, CONF, section, key, value)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_dir)


def test_info_stores_is_404_with_one_store(settings):
    with pytest.raises(NotFound, match="Multi backend is not supported at this site."):
        stores_document(settings)


def test_info_stores_lists_id_description_and_default_in_configured_order(config_dir):
    document = stores_document(load_settings(configure_stores(config_dir)))
    assert document == {
        "stores": [
            {"id": "fast", "description": "Fast store", "default": "true"},
            {"id": "cheap", "description": "Cheap store"},
            {"id": "edge", "description": "Edge store"},
        ]
    }


def test_info_stores_detail_adds_type_properties_and_weight(config_dir):
    detail = stores_document(load_settings(configure_stores(config_dir)), detail=True)["stores"]
    assert [(s["type"], s["weight"]) for s in detail] == [("s3", 100), ("s3", 50), ("s3", 10)]
    assert set(detail[0]["properties"]) == {
        "s3_store_large_object_size",
        "s3_store_large_object_chunk_size",
        "s3_store_thread_pools",
    }


def test_versions_of_a_multi_store_site_are_multi_store_glance_33s():
    ids = [v["id"] for v in versions_document("http://x", multi_store=True)["versions"]]
    assert ids == ["v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.17", "v2.7", "v2.6",
                   "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"]  # fmt: skip
    single = [v["id"] for v in versions_document("http://x")["versions"]]
    assert "v2.8" not in single and "v2.12" not in single

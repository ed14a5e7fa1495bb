"""Locations (show_multiple_locations / show_image_direct_url): s3:// URLs with metadata.store; off by default."""

from __future__ import annotations

from types import SimpleNamespace

from image_import.models import Image, RequestContext
from image_import.settings import load_settings
from image_import.stores.locations import add_locations
from tests.support.config import set_option
from tests.support.multi_store import CHEAP_BUCKET, EDGE_BUCKET, configure_stores

ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["admin"], is_admin=True)
OUTSIDER = RequestContext(user_id="u", project_id="other", roles=["member", "reader"])
PORTS = SimpleNamespace(store=SimpleNamespace(name="stack-store"), stores=None)


def active(**fields) -> Image:
    return Image(id="i", status="active", owner="demo", **fields)


def test_by_default_no_location_is_shown(settings):
    assert add_locations({}, active(), ADMIN, settings, PORTS) == {}


def test_each_store_is_a_location_heaviest_first_and_the_first_is_the_direct_url(config_dir):
    configure_stores(config_dir)
    set_option(config_dir, "glance-api.conf", "DEFAULT", "show_multiple_locations", "true")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "show_image_direct_url", "true")
    body = add_locations({}, active(stores=["cheap", "edge"]), ADMIN, load_settings(config_dir), PORTS)
    assert body["locations"] == [
        {"url": f"s3://{CHEAP_BUCKET}/images/i", "metadata": {"store": "cheap"}},
        {"url": f"s3://{EDGE_BUCKET}/images/i", "metadata": {"store": "edge"}},
    ]
    assert body["direct_url"] == f"s3://{CHEAP_BUCKET}/images/i"


def test_one_store_has_one_location_without_a_store(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "show_image_direct_url", "true")
    body = add_locations({}, active(), ADMIN, load_settings(config_dir), PORTS)
    assert body == {"direct_url": "s3://stack-store/images/i"}


def test_an_image_without_data_or_a_caller_refused_get_image_location_sees_none(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "show_multiple_locations", "true")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "show_image_direct_url", "true")
    settings = load_settings(config_dir)
    assert add_locations({}, Image(id="i", status="queued"), ADMIN, settings, PORTS) == {"locations": []}
    assert add_locations({}, active(visibility="public"), OUTSIDER, settings, PORTS) == {"locations": []}

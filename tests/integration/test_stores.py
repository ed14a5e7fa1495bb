"""Many stores through the whole stack: discovery, import into stores, copy-image, removing from a store."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.multi_store import configure_stores, create_store_buckets


@pytest.fixture
def stack_config(config_dir):
    return configure_stores(config_dir)


@pytest.fixture
def stores_stack(stack):
    create_store_buckets()
    return stack


def test_info_stores_lists_the_configured_stores(stores_stack, member):
    reply = member.call("GET", "/v2/info/stores")
    assert reply.status == 200
    assert [(s["id"], s.get("default")) for s in reply.json["stores"]] == [
        ("fast", "true"),
        ("cheap", None),
        ("edge", None),
    ]


def test_info_stores_detail_is_for_admins(stores_stack, member, admin):
    refused = member.call("GET", "/v2/info/stores/detail")
    assert refused.status == 403
    assert "stores_info_detail" in refused.json["message"]
    detail = admin.call("GET", "/v2/info/stores/detail")
    assert detail.status == 200
    assert [s["weight"] for s in detail.json["stores"]] == [100, 50, 10]


def test_versions_list_the_multi_store_versions(stores_stack, anonymous: Api):
    ids = [v["id"] for v in anonymous.call("GET", "/versions").json["versions"]]
    assert {"v2.8", "v2.10", "v2.11", "v2.12", "v2.13"} <= set(ids)

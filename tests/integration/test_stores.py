"""Many stores through the whole stack: discovery, import into stores, copy-image, removing from a store."""

from __future__ import annotations

import pytest

from image_import.stores.removal import LAST_STORE
from tests.support.api import Api
from tests.support.multi_store import configure_stores, create_store_buckets
from tests.support.stack_state import wait_for_executions
from tests.support.stores import object_in, stored


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


DATA = b"multi-store image data " * 1000


def staged_image(api: Api) -> str:
    image = api.create()
    assert api.stage(image["id"], DATA).status == 204
    return image["id"]


def import_into(api: Api, image_id: str, headers=None, **fields):
    body = {"method": {"name": "glance-direct"}, **fields}
    return api.call("POST", f"/v2/images/{image_id}/import", body, headers)


def test_all_stores_writes_every_bucket_and_lists_them_heaviest_first(stores_stack, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id, all_stores=True).status == 202
    wait_for_executions(stores_stack)
    image = admin.show(image_id)
    assert image["status"] == "active"
    assert image["stores"] == "fast,cheap,edge"
    assert image["os_glance_importing_to_stores"] == "" and image["os_glance_failed_import"] == ""
    assert stored(stores_stack, image_id) == {"fast": DATA, "cheap": DATA, "edge": DATA}


def test_stores_names_the_stores_and_only_those_are_written(stores_stack, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id, stores=["edge", "cheap"]).status == 202
    wait_for_executions(stores_stack)
    assert admin.show(image_id)["stores"] == "cheap,edge"
    assert stored(stores_stack, image_id) == {"fast": None, "cheap": DATA, "edge": DATA}


def test_the_store_header_picks_one_store(stores_stack, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id, {"X-Image-Meta-Store": "edge"}).status == 202
    wait_for_executions(stores_stack)
    assert admin.show(image_id)["stores"] == "edge"
    assert stored(stores_stack, image_id)["edge"] == DATA


def test_without_stores_the_default_store_is_written(stores_stack, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id).status == 202
    wait_for_executions(stores_stack)
    assert admin.show(image_id)["stores"] == "fast"


@pytest.mark.parametrize(
    "fields, headers, status, message",
    [
        ({"stores": ["nowhere"]}, None, 409, "Store for identifier nowhere not found"),
        ({}, {"X-Image-Meta-Store": "nowhere"}, 409, "Store for identifier nowhere not found"),
        ({"stores": ["fast"], "all_stores": True}, None, 400, "All_stores parameter can't be used"),
        ({"all_stores": True}, {"X-Image-Meta-Store": "fast"}, 400, "All_stores parameter can't be used"),
        ({"stores": ["fast"]}, {"X-Image-Meta-Store": "cheap"}, 400, "Stores parameter and x-image-meta-store"),
        ({"stores": []}, None, 400, "'stores' must be a non-empty list"),
        ({"stores": "fast"}, None, 400, "'stores' must be a non-empty list"),
    ],
)
def test_glances_answers_to_a_wrong_store_request(stores_stack, admin, fields, headers, status, message):
    image_id = staged_image(admin)
    reply = import_into(admin, image_id, headers, **fields)
    assert (reply.status, message in reply.json["message"]) == (status, True), reply.text
    assert admin.show(image_id)["status"] == "uploading"  # nothing started


@pytest.fixture
def edge_missing(stores_stack):
    """The edge store's bucket is gone: every copy into it fails."""
    import boto3

    from tests.support.multi_store import EDGE_BUCKET, EDGE_REGION

    boto3.client("s3", region_name=EDGE_REGION).delete_bucket(Bucket=EDGE_BUCKET)
    return stores_stack


def test_a_failed_store_is_reported_and_the_image_is_active_in_the_others(edge_missing, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id, all_stores=True, all_stores_must_succeed=False).status == 202
    wait_for_executions(edge_missing)
    image = admin.show(image_id)
    assert (image["status"], image["stores"]) == ("active", "fast,cheap")
    assert image["os_glance_failed_import"] == "edge" and image["os_glance_importing_to_stores"] == ""
    task = admin.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"][0]
    assert task["status"] == "success"


def test_when_all_stores_must_succeed_a_failed_store_reverts_every_store(edge_missing, admin):
    image_id = staged_image(admin)
    assert import_into(admin, image_id, all_stores=True).status == 202
    wait_for_executions(edge_missing)
    image = admin.show(image_id)
    assert image["status"] == "uploading" and "stores" not in image
    assert image["os_glance_failed_import"] == "edge" and image["os_glance_importing_to_stores"] == ""
    assert stored(edge_missing, image_id) == {"fast": None, "cheap": None, "edge": None}
    task = admin.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"][0]
    assert task["status"] == "failure" and "edge" in task["message"]
    # the staged data is kept: the import into the stores that work succeeds
    assert import_into(admin, image_id, stores=["fast", "cheap"]).status == 202
    wait_for_executions(edge_missing)
    assert admin.show(image_id)["stores"] == "fast,cheap"


def active_in(api: Api, stack, stores: list[str]) -> dict:
    image_id = staged_image(api)
    assert import_into(api, image_id, stores=stores).status == 202
    wait_for_executions(stack)
    image = api.show(image_id)
    assert image["status"] == "active"
    return image


def copy_image(api: Api, image_id: str, **fields):
    return api.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": "copy-image"}, **fields})


def test_copy_image_puts_an_active_image_into_more_stores_without_leaving_active(stores_stack, admin):
    image = active_in(admin, stores_stack, ["fast"])
    assert copy_image(admin, image["id"], stores=["edge", "cheap"]).status == 202
    assert admin.show(image["id"])["status"] == "active"  # a copy never takes the image out of service
    wait_for_executions(stores_stack)
    copied = admin.show(image["id"])
    assert copied["stores"] == "fast,cheap,edge"
    assert (copied["checksum"], copied["os_hash_value"]) == (image["checksum"], image["os_hash_value"])
    assert copied["os_glance_importing_to_stores"] == "" and "os_glance_import_task" not in copied
    assert stored(stores_stack, image["id"]) == {"fast": DATA, "cheap": DATA, "edge": DATA}
    tasks = admin.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert sorted(t["status"] for t in tasks) == ["success", "success"]


def test_copy_image_with_all_stores_skips_the_stores_the_image_is_in(stores_stack, admin):
    image = active_in(admin, stores_stack, ["fast", "edge"])
    assert copy_image(admin, image["id"], all_stores=True).status == 202
    wait_for_executions(stores_stack)
    assert admin.show(image["id"])["stores"] == "fast,cheap,edge"
    # in every store already: Glance's 202 that starts nothing
    assert copy_image(admin, image["id"], all_stores=True).status == 202
    assert len(admin.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]) == 2


def test_copy_image_refusals_are_glances(stores_stack, admin, member):
    image = active_in(admin, stores_stack, ["fast"])
    present = copy_image(admin, image["id"], stores=["fast"])
    assert (present.status, present.json["message"]) == (400, "Image is already present at store 'fast'")
    mine = active_in(member, stores_stack, ["fast"])
    refused = copy_image(member, mine["id"], stores=["cheap"])  # policy copy_image: admin by default
    assert (refused.status, refused.json["message"]) == (403, "You are not authorized to complete copy_image action.")
    queued = admin.create()
    not_active = copy_image(admin, queued["id"], stores=["cheap"])
    assert (not_active.status, not_active.json["message"]) == (
        409,
        "Only images with status active can be targeted for copying",
    )
    again = import_into(admin, image["id"])
    assert (again.status, again.json["message"]) == (409, "Image with status active cannot be target for import")


def test_a_failed_copy_removes_only_what_it_wrote(edge_missing, admin):
    image = active_in(admin, edge_missing, ["fast"])
    assert copy_image(admin, image["id"], stores=["cheap", "edge"]).status == 202
    wait_for_executions(edge_missing)
    after = admin.show(image["id"])
    assert (after["status"], after["stores"], after["os_glance_failed_import"]) == ("active", "fast", "edge")
    assert stored(edge_missing, image["id"]) == {"fast": DATA, "cheap": None, "edge": None}
    tasks = admin.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert sorted(t["status"] for t in tasks) == ["failure", "success"]


def test_an_image_leaves_a_store_but_never_its_last(stores_stack, admin, member):
    image = active_in(admin, stores_stack, ["fast", "edge"])
    path = f"/v2/stores/edge/{image['id']}"
    refused = member.call("DELETE", path)
    assert refused.status == 404  # the member cannot see the admin's image
    assert admin.call("DELETE", path).status == 204
    assert admin.show(image["id"])["stores"] == "fast"
    assert stored(stores_stack, image["id"]) == {"fast": DATA, "cheap": None, "edge": None}
    last = admin.call("DELETE", f"/v2/stores/fast/{image['id']}")
    assert (last.status, last.json["message"]) == (403, LAST_STORE)
    unknown = admin.call("DELETE", f"/v2/stores/nowhere/{image['id']}")
    assert (unknown.status, unknown.json["message"]) == (
        409,
        "The selected store nowhere is not available on this node.",
    )
    # the data is still served from the store it is in
    assert admin.call("GET", f"/v2/images/{image['id']}/file").status == 200


def test_removing_from_a_store_is_for_admins_and_needs_an_active_image_in_that_store(stores_stack, admin, member):
    mine = active_in(member, stores_stack, ["fast", "cheap"])
    refused = member.call("DELETE", f"/v2/stores/cheap/{mine['id']}")
    assert (refused.status, refused.json["message"]) == (
        403,
        "You are not authorized to complete delete_image_location action.",
    )
    absent = admin.call("DELETE", f"/v2/stores/edge/{mine['id']}")
    assert (absent.status, absent.json["message"]) == (404, f"Image {mine['id']} is not stored in store edge.")
    queued = admin.create()
    not_active = admin.call("DELETE", f"/v2/stores/cheap/{queued['id']}")
    assert not_active.status == 409


def test_an_image_only_in_another_region_is_downloaded_from_there_and_deleted_from_there(stores_stack, admin):
    image = active_in(admin, stores_stack, ["edge"])
    download = admin.call("GET", f"/v2/images/{image['id']}/file", headers={"Accept": "*/*"})
    assert download.status == 200
    assert admin.call("DELETE", f"/v2/images/{image['id']}").status == 204
    assert stored(stores_stack, image["id"])["edge"] is None


def test_put_file_writes_the_store_the_header_names(stores_stack, admin):
    image = admin.create()
    reply = admin.call(
        "PUT",
        f"/v2/images/{image['id']}/file",
        DATA,
        {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "cheap"},
    )
    assert reply.status == 204, reply.text
    assert admin.show(image["id"])["stores"] == "cheap"
    assert stored(stores_stack, image["id"]) == {"fast": None, "cheap": DATA, "edge": None}
    other = admin.create()
    unknown = admin.call(
        "PUT",
        f"/v2/images/{other['id']}/file",
        DATA,
        {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "nowhere"},
    )
    assert (unknown.status, unknown.json["message"]) == (400, "Store for identifier nowhere not found")


@pytest.fixture
def sweep(stores_stack, monkeypatch):
    import json

    import boto3

    monkeypatch.setenv("SWEEPER_GRACE_MINUTES", "0")  # everything here is seconds old
    monkeypatch.setenv("SWEEPER_UPLOAD_AGE_HOURS", "0")

    def run() -> dict:
        reply = boto3.client("lambda").invoke(FunctionName=stores_stack.physical_name("SweeperFunction"), Payload=b"{}")
        assert "FunctionError" not in reply, reply["Payload"].read()
        return json.loads(reply["Payload"].read())

    return run


def test_the_sweeper_removes_a_further_stores_copy_of_an_image_not_in_that_store_and_nothing_else(
    stores_stack, admin, sweep
):
    import boto3

    from tests.support.multi_store import CHEAP_BUCKET

    image = active_in(admin, stores_stack, ["fast", "edge"])
    s3 = boto3.client("s3")
    s3.put_object(Bucket=CHEAP_BUCKET, Key=f"images/{image['id']}", Body=b"left by a failed cleanup")
    s3.put_object(Bucket=CHEAP_BUCKET, Key="operator/notes.txt", Body=b"not the service's")
    s3.create_multipart_upload(Bucket=CHEAP_BUCKET, Key="operator/big")
    report = sweep()
    assert report["stored_objects_deleted"] == 1
    assert stored(stores_stack, image["id"]) == {"fast": DATA, "cheap": None, "edge": DATA}
    assert object_in(CHEAP_BUCKET, "operator/notes.txt") == b"not the service's"
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=CHEAP_BUCKET).get("Uploads", [])] == ["operator/big"]

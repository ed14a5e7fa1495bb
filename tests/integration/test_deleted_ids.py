"""A deleted image's id is never handed out again (OSSN-0075): DELETE leaves a tombstone that
refuses the id with Glance's 409, and that nothing else ever sees."""

from __future__ import annotations

import json

import boto3
import pytest

from image_import.adapters.records import ImageRepository
from image_import.errors import ConcurrentUpdate
from tests.support.api import Api
from tests.support.records import stored_images

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
REUSED = "0d5e7a43-9b1c-4f2e-8a6d-3c1b2a4f5e60"


@pytest.fixture
def other(stack) -> Api:
    return Api(stack, "other-token")  # project "alt"


def deleted(member) -> str:
    image = member.create(id=REUSED)
    reply = member.call("DELETE", f"/v2/images/{image['id']}")
    assert reply.status == 204, reply.text
    return image["id"]


@pytest.mark.parametrize("who", ["member", "other"])
def test_given_a_deleted_image_then_its_id_cannot_be_created_again_by_anyone(stack, member, other, who):
    image_id = deleted(member)
    creator = {"member": member, "other": other}[who]
    reply = creator.call("POST", "/v2/images", {"id": image_id, "name": "impostor", "disk_format": "raw"})
    assert reply.status == 409, reply.text
    assert f"Image ID {image_id} already exists!" in reply.json["message"]  # Glance 33's answer, word for word
    assert member.call("GET", f"/v2/images/{image_id}").status == 404
    assert other.call("GET", f"/v2/images/{image_id}").status == 404


def test_given_a_live_image_then_a_duplicate_id_gets_glances_message(stack, member):
    image = member.create()
    reply = member.call("POST", "/v2/images", {"id": image["id"]})
    assert reply.status == 409, reply.text
    assert f"Image ID {image['id']} already exists!" in reply.json["message"]


def test_given_a_deleted_image_then_every_call_on_it_is_404(stack, member, admin):
    image_id = deleted(member)
    for api in (member, admin):
        assert api.call("GET", f"/v2/images/{image_id}").status == 404
        patch = [{"op": "replace", "path": "/name", "value": "x"}]
        assert api.call("PATCH", f"/v2/images/{image_id}", patch, PATCH).status == 404
        reply = api.call("DELETE", f"/v2/images/{image_id}")
        assert reply.status == 404, reply.text
        stage = api.call("PUT", f"/v2/images/{image_id}/stage", "x", {"Content-Type": "application/octet-stream"})
        assert stage.status == 404, stage.text
        assert api.import_(image_id).status == 404
        assert api.call("GET", f"/v2/images/{image_id}/file").status == 404
        assert api.call("PUT", f"/v2/images/{image_id}/tags/t").status == 404


def test_given_a_deleted_image_then_lists_and_paging_never_see_it(stack, member, admin):
    first, second = member.create(name="a"), member.create(name="b")
    image_id = deleted(member)
    for api in (member, admin):
        reply = api.call("GET", "/v2/images")
        assert reply.status == 200, reply.text
        ids = [i["id"] for i in reply.json["images"]]
        assert image_id not in ids and {first["id"], second["id"]} <= set(ids)
        page, seen = api.call("GET", "/v2/images", query={"limit": "1"}), []
        while True:
            assert page.status == 200, page.text
            seen += [i["id"] for i in page.json["images"]]
            if "next" not in page.json:
                break
            marker = page.json["next"].split("marker=")[1].split("&")[0]
            page = api.call("GET", "/v2/images", query={"limit": "1", "marker": marker})
        assert image_id not in seen and {first["id"], second["id"]} <= set(seen)
        # a marker naming the deleted image answers as one naming an image that never was
        gone = api.call("GET", "/v2/images", query={"marker": image_id})
        never = api.call("GET", "/v2/images", query={"marker": "00000000-0000-0000-0000-000000000000"})
        assert gone.status == never.status == 400
        assert gone.json["message"].replace(image_id, "X") == never.json["message"].replace(
            "00000000-0000-0000-0000-000000000000", "X"
        )


def test_given_a_deleted_image_then_its_tombstone_holds_only_the_id_owner_and_when(stack, member):
    image_id = deleted(member)
    item = boto3.client("dynamodb").get_item(
        TableName=stack.physical_name("ImagesTable"), Key={"id": {"S": image_id}}, ConsistentRead=True
    )["Item"]
    assert set(item) == {"id", "deleted", "deleted_at", "owner"}
    assert item["deleted"] == {"BOOL": True} and item["owner"] == {"S": "demo"}


def test_given_a_tombstone_then_the_repository_never_returns_saves_or_deletes_it(stack, member):
    images = ImageRepository(stack.physical_name("ImagesTable"))
    live = member.create()["id"]
    image_id = member.create()["id"]
    read = images.get(image_id)
    images.delete(image_id, expected_version=read.version)
    assert images.get(image_id) is None
    assert [i.id for i in stored_images(images.table)] == [live]
    with pytest.raises(ConcurrentUpdate):  # a writer that read it before the delete loses
        images.save(read)
    with pytest.raises(ConcurrentUpdate):
        images.delete(image_id, expected_version=read.version)
    images.delete(image_id)  # the unconditional delete of a tombstone leaves it a tombstone
    assert images.get(image_id) is None
    item = boto3.client("dynamodb").get_item(
        TableName=stack.physical_name("ImagesTable"), Key={"id": {"S": image_id}}, ConsistentRead=True
    )["Item"]
    assert item["deleted"] == {"BOOL": True}


def test_given_a_tombstone_then_the_sweeper_ignores_it_and_never_frees_the_id(stack, member, monkeypatch):
    monkeypatch.setenv("SWEEPER_GRACE_MINUTES", "0")
    image_id = deleted(member)
    staging = stack.physical_name("StagingBucket")
    s3 = boto3.client("s3")
    s3.put_object(Bucket=staging, Key=f"staging/{image_id}", Body=b"late")  # residue of the deleted image
    reply = boto3.client("lambda").invoke(FunctionName=stack.physical_name("SweeperFunction"), Payload=b"{}")
    assert "FunctionError" not in reply, reply["Payload"].read()
    report = json.loads(reply["Payload"].read())
    assert report["staged_objects_deleted"] == 1, report  # a tombstone references no data
    assert s3.list_objects_v2(Bucket=staging).get("KeyCount") == 0
    again = member.call("POST", "/v2/images", {"id": image_id})
    assert again.status == 409, again.text

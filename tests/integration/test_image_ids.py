"""An image id has one form, the lower-case UUID, wherever it comes in (docs/decisions.md): Glance's
database (MySQL) compares ids case-insensitively, DynamoDB compares bytes, so an upper-case spelling
must neither make a second image (a twin of a live id, a deleted id back past its tombstone) nor miss
the image it names."""

from __future__ import annotations

import boto3
import pytest

from image_import.adapters.records import ImageRepository
from image_import.errors import Conflict
from image_import.models import Image
from tests.support.api import Api
from tests.support.stack_state import wait_for_executions

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}
GIVEN = "0D5E7A43-9B1C-4F2E-8A6D-3C1B2A4F5E6A"  # a client's id, in upper case


@pytest.fixture
def other(stack) -> Api:
    return Api(stack, "other-token")  # project "alt"


def image_items(stack) -> list[str]:
    """The ids of every item in the images table that is an image or a tombstone (no rows beside them)."""
    items = boto3.client("dynamodb").scan(TableName=stack.physical_name("ImagesTable"))["Items"]
    return sorted(i["id"]["S"] for i in items if "/" not in i["id"]["S"])


@pytest.mark.parametrize("who", ["member", "other"])
def test_an_upper_case_twin_of_a_live_id_is_glances_409(stack, member, other, who):
    image_id = member.create()["id"]
    creator = {"member": member, "other": other}[who]
    reply = creator.call("POST", "/v2/images", {"id": image_id.upper(), "name": "twin"})
    assert reply.status == 409, reply.text
    assert f"Image ID {image_id} already exists!" in reply.json["message"]
    assert image_items(stack) == [image_id]


@pytest.mark.parametrize("who", ["member", "other"])
def test_a_deleted_id_in_upper_case_does_not_come_back_past_its_tombstone(stack, member, other, who):
    image_id = member.create()["id"]
    assert member.call("DELETE", f"/v2/images/{image_id}").status == 204
    creator = {"member": member, "other": other}[who]
    reply = creator.call("POST", "/v2/images", {"id": image_id.upper(), "name": "impostor"})
    assert reply.status == 409, reply.text
    assert f"Image ID {image_id} already exists!" in reply.json["message"]
    assert member.call("GET", f"/v2/images/{image_id.upper()}").status == 404
    assert image_items(stack) == [image_id]  # the tombstone, alone


def test_an_id_given_in_upper_case_is_stored_and_answered_in_lower_case(stack, member):
    created = member.create(id=GIVEN)
    assert created["id"] == GIVEN.lower() and created["self"] == f"/v2/images/{GIVEN.lower()}"
    assert image_items(stack) == [GIVEN.lower()]
    again = member.call("POST", "/v2/images", {"id": GIVEN.lower()})
    assert again.status == 409, again.text


@pytest.mark.parametrize("spelling", [str.upper, str.lower, lambda i: i[:8].upper() + i[8:]])
def test_every_call_on_an_image_finds_it_whatever_the_case_of_its_id(stack, member, other, admin, spelling):
    image = member.create(visibility="shared")
    path = f"/v2/images/{spelling(image['id'])}"
    assert member.call("GET", path).json == image
    patch = [{"op": "replace", "path": "/name", "value": "renamed"}]
    reply = member.call("PATCH", path, patch, PATCH)
    assert reply.status == 200 and reply.json["id"] == image["id"], reply.text
    assert member.call("PUT", f"{path}/tags/t1").status == 204
    reply = member.call("POST", f"{path}/members", {"member": "alt"})
    assert reply.status == 200 and reply.json["image_id"] == image["id"], reply.text
    assert member.call("GET", f"{path}/members/alt").status == 200
    assert other.call("PUT", f"{path}/members/alt", {"status": "accepted"}).status == 200
    assert member.call("PUT", f"{path}/stage", b"data", OCTETS).status == 204
    assert member.call("POST", f"{path}/import", {"method": {"name": "glance-direct"}}).status == 202
    wait_for_executions(stack)
    [task] = member.call("GET", f"{path}/tasks").json["tasks"]
    assert task["image_id"] == image["id"] and task["status"] == "success", task
    assert admin.call("GET", f"/v2/tasks/{spelling(task['id'])}").json["id"] == task["id"]
    reply = member.call("GET", f"{path}/file")
    assert reply.status == 200 and reply.text == "data", reply.text
    shown = member.show(image["id"])
    assert shown["name"] == "renamed" and shown["tags"] == ["t1"] and shown["status"] == "active"
    assert other.call("GET", path).json["id"] == image["id"]  # the member sees it by any spelling too
    assert member.call("DELETE", path).status == 204
    assert member.call("GET", f"/v2/images/{image['id']}").status == 404
    assert image_items(stack) == [image["id"]]  # the tombstone, under the one id


def test_list_markers_and_id_filters_name_an_image_whatever_the_case(member):
    first, second = member.create(name="a"), member.create(name="b")
    reply = member.call("GET", "/v2/images", query={"id": [second["id"].upper()]})
    assert [i["id"] for i in reply.json["images"]] == [second["id"]], reply.text
    reply = member.call("GET", "/v2/images", query={"id": [f"in:{first['id'].upper()},{second['id']}"]})
    assert {i["id"] for i in reply.json["images"]} == {first["id"], second["id"]}, reply.text
    by_lower = member.call("GET", "/v2/images", query={"marker": [second["id"]]})
    by_upper = member.call("GET", "/v2/images", query={"marker": [second["id"].upper()]})
    assert by_upper.status == 200, by_upper.text
    assert by_upper.json["images"] == by_lower.json["images"]


def test_the_repository_never_writes_two_records_that_differ_only_by_case(stack):
    images = ImageRepository(stack.physical_name("ImagesTable"))
    images.create(Image(id=GIVEN, owner="p"))
    with pytest.raises(Conflict):
        images.create(Image(id=GIVEN.lower(), owner="q"))
    mixed = "".join(c.upper() if n % 2 else c for n, c in enumerate(GIVEN.lower()))
    with pytest.raises(Conflict):
        images.create(Image(id=mixed, owner="q"))
    assert image_items(stack) == [GIVEN.lower()]
    assert images.get(GIVEN).owner == images.get(GIVEN.lower()).owner == "p"

"""Image sharing (Glance's image members API) through the API: every status code, and what membership grants."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.config import set_option
from tests.support.stack_state import wait_for_executions

OWNER_PROJECT, OTHER_PROJECT = "demo", "alt"  # member-token's and other-token's projects (config/local-tokens.yaml)
MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def other(stack) -> Api:
    return Api(stack, "other-token")


def members_of(api, image_id):
    return api.call("GET", f"/v2/images/{image_id}/members")


def add(api, image_id, member=OTHER_PROJECT):
    return api.call("POST", f"/v2/images/{image_id}/members", {"member": member})


def set_status(api, image_id, status, member=OTHER_PROJECT):
    return api.call("PUT", f"/v2/images/{image_id}/members/{member}", {"status": status})


def listed_ids(api, **query) -> set[str]:
    reply = api.call("GET", "/v2/images", query={k: [v] for k, v in query.items()})
    assert reply.status == 200, reply.text
    return {i["id"] for i in reply.json["images"]}


def shared_with_other(member) -> dict:
    image = member.create(visibility="shared")
    assert add(member, image["id"]).status == 200
    return image


# ---------------------------------------------------------------- the calls and their documents
def test_add_list_show_update_delete_a_member(member, other):
    image = member.create(visibility="shared")
    reply = add(member, image["id"])
    assert reply.status == 200, reply.text
    document = reply.json
    assert set(document) == {"created_at", "updated_at", "image_id", "member_id", "status", "schema"}
    assert document["image_id"] == image["id"] and document["member_id"] == OTHER_PROJECT
    assert document["status"] == "pending" and document["schema"] == "/v2/schemas/member"
    assert document["created_at"].endswith("Z") and "." not in document["created_at"]

    listing = members_of(member, image["id"])
    assert listing.status == 200
    assert listing.json == {"members": [document], "schema": "/v2/schemas/members"}
    shown = member.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}")
    assert shown.status == 200 and shown.json == document

    accepted = set_status(other, image["id"], "accepted")
    assert accepted.status == 200, accepted.text
    assert accepted.json["status"] == "accepted" and accepted.json["created_at"] == document["created_at"]
    assert member.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").json["status"] == "accepted"

    deleted = member.call("DELETE", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}")
    assert deleted.status == 204 and deleted.text == ""
    assert members_of(member, image["id"]).json["members"] == []
    assert other.call("GET", f"/v2/images/{image['id']}").status == 404


def test_member_calls_leave_the_images_updated_at_alone(member, other):
    image = shared_with_other(member)
    set_status(other, image["id"], "accepted")
    assert member.show(image["id"])["updated_at"] == image["updated_at"]


def test_members_are_listed_oldest_first_then_by_project(member):
    image = member.create(visibility="shared")
    for project in ("p3", "p1", "p2"):
        assert add(member, image["id"], project).status == 200
    members = members_of(member, image["id"]).json["members"]
    assert [(m["created_at"], m["member_id"]) for m in members] == sorted(
        (m["created_at"], m["member_id"]) for m in members
    )
    assert {m["member_id"] for m in members} == {"p1", "p2", "p3"}


# ---------------------------------------------------------------- what membership grants
def test_a_member_sees_a_shared_image_in_any_status_but_lists_it_only_once_accepted(member, other):
    image = shared_with_other(member)
    assert other.call("GET", f"/v2/images/{image['id']}").status == 200  # pending
    assert image["id"] not in listed_ids(other)
    assert image["id"] in listed_ids(other, member_status="pending")
    assert image["id"] in listed_ids(other, member_status="all")
    assert set_status(other, image["id"], "accepted").status == 200
    assert image["id"] in listed_ids(other)
    assert image["id"] in listed_ids(other, visibility="shared")
    assert image["id"] not in listed_ids(other, member_status="pending")
    assert set_status(other, image["id"], "rejected").status == 200
    assert image["id"] not in listed_ids(other)
    assert image["id"] in listed_ids(other, member_status="rejected")
    assert other.call("GET", f"/v2/images/{image['id']}").status == 200  # rejected members still see it


def test_the_owner_lists_its_shared_images_whatever_member_status_asks(member, other):
    image = shared_with_other(member)
    assert image["id"] in listed_ids(member, member_status="rejected")
    assert image["id"] in listed_ids(member, visibility="shared")


def test_member_status_must_be_one_of_glances(member):
    reply = member.call("GET", "/v2/images", query={"member_status": ["maybe"]})
    assert reply.status == 400 and "Invalid status: maybe" in reply.text


def test_a_non_member_neither_sees_nor_lists_a_shared_image(member, other, stack):
    image = member.create(visibility="shared")
    assert other.call("GET", f"/v2/images/{image['id']}").status == 404
    assert image["id"] not in listed_ids(other, member_status="all")
    assert members_of(other, image["id"]).status == 404
    assert add(other, image["id"], "alt").status == 404


def test_an_accepted_member_downloads_but_may_not_change_the_image(member, other, stack):
    image = member.create(visibility="shared")
    member.stage(image["id"], b"shared data")
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)
    assert add(member, image["id"]).status == 200
    assert set_status(other, image["id"], "accepted").status == 200
    download = other.call("GET", f"/v2/images/{image['id']}/file")
    assert download.status == 200 and download.text == "shared data"
    patch = other.call(
        "PATCH",
        f"/v2/images/{image['id']}",
        [{"op": "replace", "path": "/name", "value": "mine"}],
        {"Content-Type": "application/openstack-images-v2.1-json-patch"},
    )
    assert patch.status == 403
    assert other.call("DELETE", f"/v2/images/{image['id']}").status == 403


def test_members_stay_when_visibility_changes_but_grant_access_only_while_shared(member, other):
    image = shared_with_other(member)
    set_status(other, image["id"], "accepted")
    headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    to_private = [{"op": "replace", "path": "/visibility", "value": "private"}]
    assert member.call("PATCH", f"/v2/images/{image['id']}", to_private, headers).status == 200
    assert other.call("GET", f"/v2/images/{image['id']}").status == 404
    assert image["id"] not in listed_ids(other, member_status="all")
    assert members_of(member, image["id"]).status == 403  # only shared images have members
    to_shared = [{"op": "replace", "path": "/visibility", "value": "shared"}]
    assert member.call("PATCH", f"/v2/images/{image['id']}", to_shared, headers).status == 200
    assert [m["status"] for m in members_of(member, image["id"]).json["members"]] == ["accepted"]
    assert other.call("GET", f"/v2/images/{image['id']}").status == 200


def test_deleting_the_image_deletes_its_members(member, other, stack):
    import boto3

    image = shared_with_other(member)
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204
    assert other.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 404
    table = stack.physical_name("ImagesTable")
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"id": {"S": image["id"]}})["Item"]
    assert "members" not in item and item["deleted"] == {"BOOL": True}  # only its tombstone is left


# ---------------------------------------------------------------- who may do what
def test_a_member_sees_only_its_own_membership(member, other):
    image = shared_with_other(member)
    assert add(member, image["id"], "third").status == 200
    assert [m["member_id"] for m in members_of(member, image["id"]).json["members"]] == [OTHER_PROJECT, "third"]
    assert [m["member_id"] for m in members_of(other, image["id"]).json["members"]] == [OTHER_PROJECT]
    assert other.call("GET", f"/v2/images/{image['id']}/members/third").status == 404
    assert other.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 200


def test_only_the_member_changes_its_status(member, other, admin):
    image = shared_with_other(member)
    assert add(member, image["id"], "third").status == 200
    refused = set_status(member, image["id"], "accepted")  # the owner
    assert refused.status == 403 and "modify_member" in refused.text
    assert set_status(other, image["id"], "accepted", member="third").status == 404  # another member's
    assert set_status(admin, image["id"], "rejected").status == 200  # Glance's default lets admins


def test_members_neither_add_nor_remove_members(member, other):
    image = shared_with_other(member)
    assert add(other, image["id"], "third").status == 403
    assert other.call("DELETE", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 403


def test_admin_manages_members_of_any_shared_image(member, admin, other):
    image = member.create(visibility="shared")
    assert add(admin, image["id"]).status == 200
    assert len(members_of(admin, image["id"]).json["members"]) == 1
    assert admin.call("DELETE", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 204


@pytest.fixture
def strict_member_rules(config_dir):
    (config_dir / "policy.yaml").write_text('"add_member": "role:admin"\n"get_members": "!"\n')
    return config_dir


def test_operator_rules_govern_member_calls(strict_member_rules, stack):
    member, admin = Api(stack, "member-token"), Api(stack, "admin-token")
    image = member.create(visibility="shared")
    assert add(member, image["id"]).status == 403
    assert add(admin, image["id"]).status == 200
    assert members_of(member, image["id"]).status == 403
    assert member.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 200  # get_member


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("visibility", ["private", "public", "community"])
def test_only_shared_images_have_members(member, admin, visibility):
    api = admin if visibility == "public" else member
    image = api.create(visibility=visibility)
    reply = add(api, image["id"])
    assert reply.status == 403 and "Only shared images have members." in reply.text
    assert members_of(api, image["id"]).status == 403
    assert api.call("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 404
    assert set_status(api, image["id"], "accepted").status == 403
    assert api.call("DELETE", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}").status == 403


def test_a_duplicate_member_is_409(member):
    image = shared_with_other(member)
    reply = add(member, image["id"])
    assert reply.status == 409 and f"Member {OTHER_PROJECT} is duplicated" in reply.text


def test_unknown_image_or_member_is_404(member):
    assert members_of(member, MISSING).status == 404
    assert add(member, MISSING).status == 404
    image = member.create(visibility="shared")
    for method, body in (("GET", None), ("PUT", {"status": "accepted"}), ("DELETE", None)):
        reply = member.call(method, f"/v2/images/{image['id']}/members/nobody", body)
        assert reply.status == 404, (method, reply.text)


@pytest.mark.parametrize(
    "body, message",
    [
        (None, "Body expected in request."),
        ({}, "Member to be added not specified"),
        ({"member": ""}, "Member can't be empty"),
        (["alt"], "Expected a member in the form"),
        ({"member": 42}, "Expected a member in the form"),
        ({"member": "x" * 256}, "at most 255"),
    ],
)
def test_bad_add_bodies_are_400(member, body, message):
    image = member.create(visibility="shared")
    reply = member.call("POST", f"/v2/images/{image['id']}/members", body)
    assert reply.status == 400 and message in reply.json["message"]


def test_malformed_json_is_400(member):
    image = member.create(visibility="shared")
    reply = member.call("POST", f"/v2/images/{image['id']}/members", "{not json", {"Content-Type": "application/json"})
    assert reply.status == 400


@pytest.mark.parametrize(
    "body, message",
    [
        (None, "Body expected in request."),
        ({}, "Status not specified"),
        (["accepted"], "Expected a status in the form"),
        ({"status": "maybe"}, 'Status must be "pending", "accepted" or "rejected".'),
    ],
)
def test_bad_update_bodies_are_400(member, other, body, message):
    image = shared_with_other(member)
    reply = other.call("PUT", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}", body)
    assert reply.status == 400 and message in reply.json["message"]


@pytest.fixture
def two_members_at_most(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_member_quota", "2")
    return config_dir


def test_beyond_the_member_quota_is_413(two_members_at_most, stack):
    member = Api(stack, "member-token")
    image = member.create(visibility="shared")
    assert add(member, image["id"], "p1").status == 200
    assert add(member, image["id"], "p2").status == 200
    reply = add(member, image["id"], "p3")
    assert reply.status == 413
    assert "number of allowed image members for this image. Attempted: 3, Maximum: 2" in reply.json["message"]
    assert member.call("DELETE", f"/v2/images/{image['id']}/members/p1").status == 204
    assert add(member, image["id"], "p3").status == 200


# ---------------------------------------------------------------- schemas
def test_member_schemas_are_glances(member):
    schema = member.call("GET", "/v2/schemas/member")
    assert schema.status == 200
    assert schema.json["name"] == "member"
    assert set(schema.json["properties"]) == {"member_id", "image_id", "created_at", "updated_at", "status", "schema"}
    assert schema.json["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    collection = member.call("GET", "/v2/schemas/members")
    assert collection.status == 200
    assert collection.json["name"] == "members"
    assert collection.json["properties"]["members"]["items"] == schema.json
    assert collection.json["links"] == [{"rel": "describedby", "href": "{schema}"}]


def test_member_documents_validate_against_the_served_schema(member):
    import jsonschema

    image = member.create(visibility="shared")
    document = add(member, image["id"]).json
    jsonschema.validate(document, member.call("GET", "/v2/schemas/member").json)
    jsonschema.validate(members_of(member, image["id"]).json, member.call("GET", "/v2/schemas/members").json)


def test_a_body_on_get_or_delete_is_400(member):
    image = shared_with_other(member)
    for method, path in (
        ("GET", f"/v2/images/{image['id']}/members"),
        ("GET", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}"),
        ("DELETE", f"/v2/images/{image['id']}/members/{OTHER_PROJECT}"),
    ):
        reply = member.call(method, path, {"x": 1})
        assert reply.status == 400 and "A body is not expected" in reply.json["message"], (method, path)

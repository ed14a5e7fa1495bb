"""Bad input gets a 4xx in Glance's format, never a 5xx; nothing one request stores breaks anyone's list."""

from __future__ import annotations

import json
import logging

import boto3
import pytest

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
RAW_JSON = {"Content-Type": "application/json"}
ID = "d5a2b8a0-6ac4-4a2b-8a19-7a6f5ef1d4a1"


def _listed(api) -> list[str]:
    reply = api.call("GET", "/v2/images")
    assert reply.status == 200, reply.text
    return [image["id"] for image in reply.json["images"]]


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"name": "x", "": "v"}', "Custom property name cannot be empty."),
        ('{"name": "x", "\\ud800": "v"}', "Malformed JSON in request body."),
        ('{"name": "x", "k": "\\udc00"}', "Malformed JSON in request body."),
        ('{"name": "\\udc00"}', "Malformed JSON in request body."),
        ('{"tags": ["a\\ud83d"]}', "Malformed JSON in request body."),
        (json.dumps({"k": "v" * 65536}), "Custom property value should not be greater than 65535 characters."),
        ("[" * 100000, "Malformed JSON in request body."),
        ('{"a": ' * 50 + "1" + "}" * 50, "Malformed JSON in request body."),
        (json.dumps({"min_ram": 10**40}), "'min_ram' value out of range, must not exceed 2147483647."),
        (json.dumps({"min_disk": 2**31}), "'min_disk' value out of range, must not exceed 2147483647."),
        (json.dumps({"id": ID + "\n"}), "does not match"),
    ],
    ids=[
        "empty-name",
        "surrogate-name",
        "surrogate-value",
        "surrogate-image-name",
        "surrogate-tag",
        "value-too-long",
        "deep-array",
        "deep-object",
        "min_ram-over-int",
        "min_disk-over-int",
        "id-with-newline",
    ],
)
def test_a_create_glance_cannot_store_is_400_and_stores_nothing(member, admin, body, message):
    reply = member.call("POST", "/v2/images", body, RAW_JSON)
    assert reply.status == 400, reply.text
    assert message in reply.json["message"]
    assert _listed(member) == [] and _listed(admin) == []


def test_the_largest_values_glance_stores_are_accepted(member):
    image = member.create(**{"k" * 255: "v", "big": "v" * 65535}, min_ram=2**31 - 1, min_disk=2**31 - 1)
    assert image["big"] == "v" * 65535 and image["min_ram"] == 2**31 - 1
    assert _listed(member) == [image["id"]]


@pytest.mark.parametrize(
    "operation, status, message",
    [
        ({"op": "replace", "path": "/visibility", "value": ["public"]}, 400, "is not of type 'string'"),
        ({"op": "replace", "path": "/visibility", "value": {"a": 1}}, 400, "is not of type 'string'"),
        ({"op": "replace", "path": "/min_ram", "value": 10**40}, 400, "'min_ram' value out of range"),
        ({"op": "add", "path": "/k", "value": "v" * 65536}, 400, "should not be greater than 65535 characters"),
        ({"op": "add", "path": "/k", "value": "\udfff"}, 400, "Malformed JSON in request body."),
        ({"op": "add", "path": "/\ud800", "value": "v"}, 400, "Malformed JSON in request body."),
        (
            {
                "op": "add",
                "path": "/k",
                "value": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
            },
            400,
            "Malformed JSON",
        ),
    ],
    ids=[
        "visibility-list",
        "visibility-object",
        "min_ram-huge",
        "value-too-long",
        "surrogate-value",
        "surrogate-name",
        "deep-value",
    ],
)
def test_a_patch_glance_cannot_store_is_4xx_and_changes_nothing(member, admin, operation, status, message):
    image = member.create()
    body = json.dumps([operation])  # json.dumps escapes lone surrogates as \udxxx, as a client would send them
    reply = member.call("PATCH", f"/v2/images/{image['id']}", body, PATCH)
    assert reply.status == status, reply.text
    assert message in reply.json["message"]
    assert member.show(image["id"]) == image
    assert _listed(member) == [image["id"]] and _listed(admin) == [image["id"]]


def test_an_item_over_dynamodbs_400_kb_is_413_not_a_server_error(member):
    properties = {f"p{n}": "v" * 60000 for n in range(8)}  # each within Glance's limits, together ~480 KB
    reply = member.call("POST", "/v2/images", {"name": "x", **properties})
    assert reply.status == 413, reply.text
    assert "too large" in reply.json["message"]
    image = member.create(**{f"p{n}": "v" * 60000 for n in range(5)})
    patch = [{"op": "add", "path": f"/q{n}", "value": "v" * 60000} for n in range(3)]
    reply = member.call("PATCH", f"/v2/images/{image['id']}", patch, PATCH)
    assert reply.status == 413, reply.text
    assert "q0" not in member.show(image["id"])


def test_a_record_that_cannot_be_read_is_left_out_of_lists_and_shows_a_clear_error(stack, member, admin, caplog):
    good = member.create()
    table = stack.physical_name("ImagesTable")
    broken = {"id": {"S": ID}, "owner": {"S": "demo"}, "status": {"S": "no-such-status"}, "version": {"N": "0"}}
    # where the list indexes find it, as a record a service wrote (adapters/records.image_item)
    broken |= {"list_position": {"S": f"2026-01-01T00:00:00Z#{ID}"}, "listed": {"S": "image"}}
    boto3.client("dynamodb").put_item(TableName=table, Item=broken)
    with caplog.at_level(logging.WARNING):
        assert _listed(member) == [good["id"]] and _listed(admin) == [good["id"]]
    assert any(ID in record.getMessage() for record in caplog.records)
    reply = member.call("GET", f"/v2/images/{ID}")
    assert 400 <= reply.status < 500, reply.text
    assert "cannot be read" in reply.json["message"]


class KeyLimitedDynamoDB:
    """DynamoDB's rule that moto does not enforce: a key value is at most 2048 bytes."""

    def get_item(self, **request):
        from botocore.exceptions import ClientError

        if len(request["Key"]["id"]["S"].encode()) > 2048:
            error = {"Code": "ValidationException", "Message": "Hash primary key values must be under 2048 bytes"}
            raise ClientError({"Error": error}, "GetItem")
        return {}


def test_an_id_longer_than_any_key_is_no_record_not_a_dynamodb_error(monkeypatch):
    from image_import.adapters import records

    monkeypatch.setattr(records.table, "client", lambda service, credentials=None: KeyLimitedDynamoDB())
    assert records.ImageRepository("images").get("a" * 3000) is None
    assert records.TaskRepository("tasks").get("\u00e9" * 1100) is None  # 2200 bytes


# ---------------------------------------------------------------- metadefs and import requests over DynamoDB's item limit
NS = "/v2/metadefs/namespaces"
HUGE = "d" * 420_000  # over DynamoDB's 400 KB item limit by itself


def _too_large(reply, what: str) -> None:
    assert reply.status == 413, reply.text
    assert reply.json["title"] == "Request Entity Too Large" and reply.json["code"] == "413 Request Entity Too Large"
    assert reply.json["message"].startswith(f"{what} is too large to store"), reply.json["message"]


def test_a_metadef_property_over_dynamodbs_item_limit_is_413_and_nothing_changes(admin):
    assert admin.call("POST", NS, {"namespace": "big"}).status == 201
    reply = admin.call(
        "POST", f"{NS}/big/properties", {"name": "p", "title": "P", "type": "string", "description": HUGE}
    )
    _too_large(reply, "Metadata definition property p")
    assert admin.call("GET", f"{NS}/big/properties").json == {"properties": {}}
    small = {"name": "p", "title": "P", "type": "string"}
    assert admin.call("POST", f"{NS}/big/properties", small).status == 201
    for name in ("p", "q"):  # in place, and renamed
        reply = admin.call("PUT", f"{NS}/big/properties/p", {**small, "name": name, "description": HUGE})
        _too_large(reply, f"Metadata definition property {name}")
    assert admin.call("GET", f"{NS}/big/properties").json == {"properties": {"p": small}}


def test_a_metadef_object_over_dynamodbs_item_limit_is_413_and_nothing_changes(admin):
    assert admin.call("POST", NS, {"namespace": "big"}).status == 201
    reply = admin.call("POST", f"{NS}/big/objects", {"name": "o", "description": HUGE})
    _too_large(reply, "Metadata definition object o")
    assert admin.call("GET", f"{NS}/big/objects").json["objects"] == []


def test_a_namespace_whose_contents_are_over_dynamodbs_item_limit_is_413_and_not_kept(admin):
    body = {"namespace": "big", "properties": {"p": {"title": "P", "type": "string", "description": HUGE}}}
    _too_large(admin.call("POST", NS, body), "Metadata definition property p")
    assert admin.call("GET", f"{NS}/big").status == 404


@pytest.mark.parametrize("size", [70_000, 420_000], ids=["over Glance's TEXT column", "over DynamoDB's item limit"])
def test_an_import_request_too_large_to_record_is_413_and_takes_no_lock(stack, member, size):
    image = member.create()
    assert member.stage(image["id"], b"data").status == 204
    body = {"method": {"name": "glance-direct"}, "padding": "p" * size}
    reply = member.call("POST", f"/v2/images/{image['id']}/import", body)
    assert reply.status == 413, reply.text
    assert reply.json["title"] == "Request Entity Too Large"
    assert reply.json["message"].startswith("The import request is too large to record"), reply.json["message"]
    shown = member.show(image["id"])
    assert shown["status"] == "uploading" and "os_glance_import_task" not in shown
    assert member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"] == []
    assert member.import_(image["id"]).status == 202  # a request of a usual size imports it

"""POST /v2/tasks (Glance's legacy 'import' task) end to end in the moto stack, fetching from a local
HTTP server on 127.0.0.1 (the filter is opened for loopback and its port only); task expiry."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.stack_state import bucket_keys, wait_for_executions
from tests.support.web import QuietHandler

DATA = b"QFI\xfb" + (3).to_bytes(4, "big") + bytes(96) + os.urandom(100_000)  # a qcow2 v3 header


class Handler(QuietHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        found = self.path == "/disk.qcow2"
        body = DATA if found else b"not here"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def web_handler():
    return Handler


@pytest.fixture
def stack_config(web_server_config):
    return web_server_config


def legacy_task(uri: str, **properties) -> dict:
    image_properties = {"name": "from-task", "disk_format": "qcow2", "container_format": "bare", **properties}
    return {
        "type": "import",
        "input": {"import_from": uri, "import_from_format": "qcow2", "image_properties": image_properties},
    }


def test_an_import_task_answers_201_as_glance_and_imports_the_image_with_its_properties(admin, stack, web_base):
    body = legacy_task(f"{web_base}/disk.qcow2", visibility="public", hw_disk_bus="scsi")
    reply = admin.call("POST", "/v2/tasks", body)
    assert reply.status == 201, reply.text
    created = reply.json
    assert reply.headers["location"] == f"http://127.0.0.1:9292/v2/tasks/{created['id']}"
    # Glance's keys in Glance's order: no image_id (its row has none), no expires_at while running
    assert list(created) == [
        "id", "input", "type", "status", "owner", "message", "result", "created_at", "updated_at",
        "self", "schema", "request_id", "user_id",
    ]  # fmt: skip
    assert created["status"] == "pending" and created["result"] is None and created["message"] == ""
    assert created["input"] == body["input"] and created["type"] == "import" and created["owner"] == "admin"
    assert created["request_id"] == reply.headers["x-openstack-request-id"]

    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    task = admin.call("GET", f"/v2/tasks/{created['id']}").json
    assert task["status"] == "success", task["message"]
    assert set(task["result"]) == {"image_id"} and "expires_at" in task
    image = admin.show(task["result"]["image_id"])
    assert image["status"] == "active" and image["name"] == "from-task" and image["visibility"] == "public"
    assert image["disk_format"] == "qcow2" and image["hw_disk_bus"] == "scsi" and image["owner"] == "admin"
    assert image["size"] == len(DATA) and image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert bucket_keys(stack, "StoreBucket") == [f"images/{image['id']}"]
    assert bucket_keys(stack, "StagingBucket") == []


# What Glance 33 answers (asked: the peer, admin) to each malformed create, in its order of checks
GOOD_INPUT = {"import_from": "http://203.0.113.9/disk.qcow2", "import_from_format": "qcow2", "image_properties": {}}
REFUSED = [
    (b"", "Body expected in request."),
    (b"null", "Unexpected body type. Expected list/dict."),
    ([], "Task 'type' is required"),
    ({}, "Task 'type' is required"),
    ({"type": "import"}, "Task 'input' is required"),
    ({"input": {}}, "Task 'type' is required"),
    ({"type": "bogus", "input": {}}, "Provided object does not match schema 'task': 'bogus' is not one of"),
    ({"type": "import", "input": "x"}, "Provided object does not match schema 'task': 'x' is not of type"),
    ({"type": "import", "input": GOOD_INPUT, "extra": 1}, "Additional properties are not allowed ('extra' was"),
    ({"type": "import", "input": None}, "Invalid location: None"),
    ({"type": "import", "input": {}}, "Invalid location: None"),
    (
        {"type": "import", "input": {"import_from": "file:///etc/passwd"}},
        "File based imports are not allowed. Please use a non-local source of image data.",
    ),
    (
        {"type": "import", "input": {"import_from": "ftp://x/y"}},
        "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']",
    ),
    (
        {"type": "import", "input": {"import_from": "http://10.0.0.1/y"}},  # filtered: not a public address
        "URI for legacy import task does not pass filtering: http://10.0.0.1/y",
    ),
    (
        {"type": "import", "input": {"import_from": "http://203.0.113.9:8080/y"}},  # port not allowed
        "URI for legacy import task does not pass filtering: http://203.0.113.9:8080/y",
    ),
]


def test_malformed_task_creates_are_400_with_glances_messages_and_record_nothing(admin, stack):
    for body, message in REFUSED:
        reply = admin.call("POST", "/v2/tasks", body, {"Content-Type": "application/json"})
        assert reply.status == 400, (body, reply.text)
        assert message in reply.json["message"], (body, reply.json["message"])
    assert admin.call("GET", "/v2/tasks").json["tasks"] == []
    assert admin.call("GET", "/v2/images").json["images"] == []


def test_only_import_tasks_can_be_created(admin, stack):
    reply = admin.call("POST", "/v2/tasks", {"type": "api_image_import", "input": {"image_id": "x"}})
    assert reply.status == 400 and "creates 'import' tasks" in reply.json["message"]


def test_members_may_not_create_tasks_and_are_refused_before_their_body_is_read(member, stack):
    for body in (b"", legacy_task("http://203.0.113.9/disk.qcow2")):
        reply = member.call("POST", "/v2/tasks", body)
        assert reply.status == 403, reply.text
        assert reply.json["message"] == "You are not authorized to complete tasks_api_access action."


def test_a_task_whose_input_lacks_a_field_is_created_and_fails_as_glances_does(admin, stack, web_base):
    body = {"type": "import", "input": {"import_from": f"{web_base}/disk.qcow2", "image_properties": {}}}
    created = admin.call("POST", "/v2/tasks", body)
    assert created.status == 201 and created.json["status"] == "pending"
    task = admin.call("GET", f"/v2/tasks/{created.json['id']}").json
    assert task["status"] == "failure" and task["message"] == "Input does not contain 'import_from_format' field"
    assert task["expires_at"] and task["result"] is None
    assert admin.call("GET", "/v2/images").json["images"] == []
    assert wait_for_executions(stack) == []


def test_a_task_whose_image_cannot_be_created_fails_and_says_why(admin, stack, web_base):
    created = admin.call("POST", "/v2/tasks", legacy_task(f"{web_base}/disk.qcow2", os_glance_foo="x"))
    assert created.status == 201
    task = admin.call("GET", f"/v2/tasks/{created.json['id']}").json
    assert task["status"] == "failure"
    assert task["message"] == "The image could not be created: Attribute 'os_glance_foo' is reserved."
    assert admin.call("GET", "/v2/images").json["images"] == []


def test_empty_image_properties_make_a_qcow2_bare_image_as_in_glance(admin, stack, web_base):
    body = legacy_task(f"{web_base}/disk.qcow2")
    body["input"]["image_properties"] = {}
    created = admin.call("POST", "/v2/tasks", body).json
    wait_for_executions(stack)
    task = admin.call("GET", f"/v2/tasks/{created['id']}").json
    assert task["status"] == "success", task["message"]
    image = admin.show(task["result"]["image_id"])
    assert (image["disk_format"], image["container_format"], image["status"]) == ("qcow2", "bare", "active")


def test_a_task_whose_download_fails_ends_in_failure_and_deletes_the_image_it_made_as_glance(admin, stack, web_base):
    created = admin.call("POST", "/v2/tasks", legacy_task(f"{web_base}/missing.qcow2")).json
    [execution] = wait_for_executions(stack)
    task = admin.call("GET", f"/v2/tasks/{created['id']}").json
    assert task["status"] == "failure" and task["result"] is None and "404" in task["message"]
    assert task["message"].endswith("The image the task created was deleted.")
    assert admin.call("GET", "/v2/images").json["images"] == []
    assert bucket_keys(stack, "StoreBucket") == [] and bucket_keys(stack, "StagingBucket") == []


def test_a_failed_web_download_of_the_users_own_image_still_returns_it_to_queued(member, stack, web_base):
    image = member.create(disk_format="qcow2")
    web_download = {"method": {"name": "web-download", "uri": f"{web_base}/missing.qcow2"}}
    assert member.call("POST", f"/v2/images/{image['id']}/import", web_download).status == 202
    wait_for_executions(stack)
    assert member.show(image["id"])["status"] == "queued"


def test_a_task_past_its_expiry_is_gone_from_show_and_lists_before_dynamodb_removes_it(admin, stack, web_base):
    import boto3

    body = {"type": "import", "input": {"import_from": f"{web_base}/disk.qcow2", "image_properties": {}}}
    task_id = admin.call("POST", "/v2/tasks", body).json["id"]
    table = stack.physical_name("TasksTable")
    dynamodb = boto3.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at_epoch")
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": task_id}})["Item"]
    assert int(item["expires_at_epoch"]["N"]) > 0  # the failed task's expiry, as DynamoDB's TTL reads it
    assert admin.call("GET", f"/v2/tasks/{task_id}").status == 200

    dynamodb.update_item(
        TableName=table,
        Key={"id": {"S": task_id}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2020-01-01T00:00:00Z"}},
    )
    assert admin.call("GET", f"/v2/tasks/{task_id}").status == 404
    assert admin.call("GET", "/v2/tasks").json["tasks"] == []


def test_an_images_tasks_leave_out_the_expired_ones(member, stack, web_base):
    import boto3

    image = member.create(disk_format="qcow2")
    web_download = {"method": {"name": "web-download", "uri": f"{web_base}/disk.qcow2"}}
    assert member.call("POST", f"/v2/images/{image['id']}/import", web_download).status == 202
    wait_for_executions(stack)
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert task["status"] == "success" and task["expires_at"]
    boto3.client("dynamodb").update_item(
        TableName=stack.physical_name("TasksTable"),
        Key={"id": {"S": task["id"]}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2020-01-01T00:00:00Z"}},
    )
    assert member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"] == []


def test_deleting_a_task_is_405_in_glances_words(admin, stack):
    reply = admin.call("DELETE", "/v2/tasks/00000000-0000-0000-0000-000000000001")
    assert reply.status == 405 and reply.headers["allow"] == "GET"
    assert reply.json["message"] == (
        "This operation is currently not permitted on Glance Tasks. "
        "They are auto deleted after reaching the time based on their expires_at property."
    )

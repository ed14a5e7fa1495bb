"""Direct uploads through the whole stack: presigned URLs, the S3 event via the upload queue, the import."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import boto3
import pytest
import requests

from tests.support.config import set_option
from tests.support.stack_state import bucket_keys, wait_for_executions

MiB = 1024 * 1024


def ask_urls(api, image_id: str, **body):
    return api.call("POST", f"/v2/images/{image_id}/upload-urls", body)


def put(url: str, data: bytes) -> requests.Response:
    response = requests.put(url, data=data, timeout=30)
    assert response.status_code == 200, response.text
    return response


def executions(stack) -> list[dict]:
    arn = stack.outputs["ImportStateMachineArn"]
    return boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]


def test_given_a_queued_image_when_urls_are_asked_then_one_presigned_put_to_uploads_is_returned(member, stack):
    image = member.create()
    reply = ask_urls(member, image["id"], size=5)
    assert reply.status == 200, reply.text
    body = reply.json
    assert body["size"] == 5 and body["import"] is False and body["expires_in"] == 900
    assert f"/uploads/{image['id']}?" in body["url"] and "multipart" not in body
    assert "X-Amz-Signature=" in body["url"]  # SigV4


def test_given_a_put_to_the_url_when_the_event_is_handled_then_the_image_is_uploading_with_its_size(member, stack):
    image = member.create()
    put(ask_urls(member, image["id"], size=5).json["url"], b"12345")
    stack.settle()
    shown = member.show(image["id"])
    assert (shown["status"], shown["size"]) == ("uploading", 5)
    assert executions(stack) == []  # no import was asked for
    assert member.import_(image["id"]).status == 202  # the usual import works from the uploaded data
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    assert member.show(image["id"])["checksum"] == hashlib.md5(b"12345").hexdigest()


def test_given_import_asked_when_the_data_is_put_then_the_image_ends_active_without_an_import_call(member, stack):
    data = os.urandom(300_000)
    image = member.create()
    put(ask_urls(member, image["id"], size=len(data), **{"import": True}).json["url"], data)
    stack.settle()
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    shown = member.show(image["id"])
    assert shown["status"] == "active"
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert task["user_id"] == "demo" and task["status"] == "success"
    assert bucket_keys(stack, "StagingBucket") == []  # the uploaded data was moved to the store


def test_given_a_multipart_upload_when_parts_are_put_and_completed_then_the_image_is_imported(member, stack):
    data = os.urandom(9 * MiB)
    image = member.create()
    reply = ask_urls(member, image["id"], size=len(data), multipart=True, **{"import": True})
    multipart = reply.json["multipart"]
    assert multipart["part_size"] == 8 * MiB and [p["part_number"] for p in multipart["parts"]] == [1, 2]
    assert multipart["complete_url"] == f"http://127.0.0.1:9292/v2/images/{image['id']}/upload-complete"
    for part in multipart["parts"]:
        start = (part["part_number"] - 1) * multipart["part_size"]
        put(part["url"], data[start : start + multipart["part_size"]])
    done = member.call("POST", f"/v2/images/{image['id']}/upload-complete", {"upload_id": multipart["upload_id"]})
    assert done.status == 202, done.text
    stack.settle()
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    shown = member.show(image["id"])
    assert (shown["status"], shown["size"]) == ("active", len(data))
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_given_an_upload_in_progress_when_its_urls_are_asked_again_then_they_are_resigned_with_the_parts_held(
    member, stack
):
    data = os.urandom(17 * MiB)
    image = member.create()
    first = ask_urls(member, image["id"], size=len(data), multipart=True, **{"import": True}).json["multipart"]
    put(first["parts"][1]["url"], data[8 * MiB : 16 * MiB])  # part 2 arrived before the URLs expired
    again = ask_urls(member, image["id"], upload_id=first["upload_id"])
    assert again.status == 200, again.text
    multipart = again.json["multipart"]
    assert multipart["upload_id"] == first["upload_id"] and again.json["import"] is True
    assert multipart["parts_received"] == [{"part_number": 2, "size": 8 * MiB}]
    assert [p["part_number"] for p in multipart["parts"]] == [1, 2, 3]
    for part in (multipart["parts"][0], multipart["parts"][2]):  # only the missing ones, through the new URLs
        start = (part["part_number"] - 1) * multipart["part_size"]
        put(part["url"], data[start : start + multipart["part_size"]])
    done = member.call("POST", f"/v2/images/{image['id']}/upload-complete", {"upload_id": first["upload_id"]})
    assert done.status == 202, done.text
    stack.settle()
    wait_for_executions(stack)
    shown = member.show(image["id"])
    assert shown["status"] == "active" and shown["checksum"] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize(
    ("body", "status"),
    [({"upload_id": "not-this-one"}, 409), ({"upload_id": 7}, 400), ({"upload_id": "x", "size": 3}, 400)],
)
def test_given_a_resume_request_that_names_no_upload_in_progress_then_it_is_refused(member, body, status):
    image = member.create()
    ask_urls(member, image["id"], size=9 * MiB, multipart=True)
    reply = ask_urls(member, image["id"], **body)
    assert reply.status == status and reply.json["message"]


def test_given_an_upload_whose_parts_were_aborted_when_resumed_then_409_saying_to_ask_again(member, stack):
    image = member.create()
    offer = ask_urls(member, image["id"], size=9 * MiB, multipart=True).json["multipart"]
    staging = stack.physical_name("StagingBucket")
    boto3.client("s3").abort_multipart_upload(Bucket=staging, Key=f"uploads/{image['id']}", UploadId=offer["upload_id"])
    reply = ask_urls(member, image["id"], upload_id=offer["upload_id"])
    assert reply.status == 409 and "ask for upload URLs again" in reply.json["message"]


def test_given_another_projects_image_when_urls_are_asked_then_404(member, admin):
    image = admin.create()
    assert ask_urls(member, image["id"], size=1).status == 404


def test_given_a_public_image_of_another_project_when_urls_are_asked_then_403(member, admin):
    image = admin.create(visibility="public")
    assert ask_urls(member, image["id"], size=1).status == 403


def test_given_a_staged_image_when_urls_are_asked_then_409(member):
    image = member.create()
    assert member.stage(image["id"], b"abc").status == 204
    assert ask_urls(member, image["id"], size=3).status == 409


def test_given_no_size_when_urls_are_asked_then_400_in_glances_format(member):
    image = member.create()
    reply = ask_urls(member, image["id"])
    assert reply.status == 400 and "size" in reply.json["message"]


def test_given_a_wrong_upload_id_when_completing_then_409(member):
    image = member.create()
    ask_urls(member, image["id"], size=1, multipart=True)
    reply = member.call("POST", f"/v2/images/{image['id']}/upload-complete", {"upload_id": "nope"})
    assert reply.status == 409


def test_given_an_object_for_no_known_image_then_it_is_removed_and_nothing_is_imported(stack):
    key = f"uploads/{uuid.uuid4()}"
    boto3.client("s3").put_object(Bucket=stack.physical_name("StagingBucket"), Key=key, Body=b"x")
    stack.settle()
    assert bucket_keys(stack, "StagingBucket") == []
    assert executions(stack) == []


def test_given_a_replayed_event_then_the_import_is_started_once(member, stack):
    image = member.create()
    put(ask_urls(member, image["id"], size=3, **{"import": True}).json["url"], b"abc")
    stack.settle()
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": stack.physical_name("StagingBucket")}, "object": {"key": f"uploads%2F{image['id']}"}},
    }
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName=stack.physical_name("UploadQueue"))["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Records": [record]}))
    stack.settle()
    wait_for_executions(stack)
    assert len(executions(stack)) == 1
    assert len(member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]) == 1


def test_given_data_staged_through_the_api_then_no_upload_event_fires(member, stack):
    image = member.create()
    member.stage(image["id"], b"abc")
    stack.settle()
    assert bucket_keys(stack, "StagingBucket") == [f"staging/{image['id']}"]
    assert member.show(image["id"])["status"] == "uploading"


@pytest.mark.parametrize("deleted_after", ["upload", "urls"])
def test_given_a_direct_upload_when_the_image_is_deleted_then_nothing_is_left_in_staging(member, stack, deleted_after):
    image = member.create()
    reply = ask_urls(member, image["id"], size=3, multipart=deleted_after == "urls")
    if deleted_after == "upload":
        put(reply.json["url"], b"abc")
        stack.settle()
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204
    s3 = boto3.client("s3")
    bucket = stack.physical_name("StagingBucket")
    assert bucket_keys(stack, "StagingBucket") == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# ---------------------------------------------------------------- the verified bytes are the imported bytes
def store_bytes(stack, image_id: str) -> bytes:
    bucket = stack.physical_name("StoreBucket")
    return boto3.client("s3").get_object(Bucket=bucket, Key=f"images/{image_id}")["Body"].read()


def test_given_the_upload_event_handled_when_the_same_url_is_used_again_then_the_first_bytes_are_imported(
    member, stack
):
    first, second = os.urandom(4096), os.urandom(4096)  # the same length: the size check cannot tell them apart
    image = member.create()
    url = ask_urls(member, image["id"], size=len(first)).json["url"]
    put(url, first)
    stack.settle()
    assert member.show(image["id"])["status"] == "uploading"
    put(url, second)  # the URL is still valid: S3 takes the PUT, and its event arrives too
    stack.settle()
    assert member.import_(image["id"]).status == 202
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    shown = member.show(image["id"])
    assert (shown["status"], shown["size"]) == ("active", len(first))
    assert shown["checksum"] == hashlib.md5(first).hexdigest()
    assert store_bytes(stack, image["id"]) == first
    assert bucket_keys(stack, "StagingBucket") == []  # the second PUT was removed, the first one imported


def test_given_the_upload_event_handled_then_the_data_waits_under_a_key_only_the_service_writes(member, stack):
    image = member.create()
    put(ask_urls(member, image["id"], size=3).json["url"], b"abc")
    stack.settle()
    [key] = bucket_keys(stack, "StagingBucket")  # uploads/<id> removed
    assert key.startswith(f"staging/{image['id']}.upload.")


def test_given_a_completed_multipart_upload_when_its_event_is_handled_then_it_is_copied_out_of_uploads(member, stack):
    data = os.urandom(9 * MiB)
    image = member.create()
    multipart = ask_urls(member, image["id"], size=len(data), multipart=True).json["multipart"]
    for part in multipart["parts"]:
        start = (part["part_number"] - 1) * multipart["part_size"]
        put(part["url"], data[start : start + multipart["part_size"]])
    done = member.call("POST", f"/v2/images/{image['id']}/upload-complete", {"upload_id": multipart["upload_id"]})
    assert done.status == 202, done.text
    stack.settle()
    [key] = bucket_keys(stack, "StagingBucket")
    assert key.startswith(f"staging/{image['id']}.upload.")
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)
    assert store_bytes(stack, image["id"]) == data


def test_given_no_option_then_urls_live_fifteen_minutes_and_are_signed_with_the_content_length(member):
    image = member.create()
    body = ask_urls(member, image["id"], size=5).json
    assert body["expires_in"] == 900 and "X-Amz-Expires=900&" in body["url"]
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in body["url"]  # S3 refuses a PUT of another length


def test_given_a_multipart_upload_then_each_part_url_is_signed_with_its_own_length(member):
    image = member.create()
    multipart = ask_urls(member, image["id"], size=9 * MiB, multipart=True).json["multipart"]
    for part in multipart["parts"]:
        assert "X-Amz-SignedHeaders=content-length%3Bhost" in part["url"] and "X-Amz-Expires=900&" in part["url"]


class TestAConfiguredUrlLifetime:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-image-import.conf", "direct_upload", "url_lifetime", "300")
        return config_dir

    def test_then_the_urls_expire_after_it(self, member):
        image = member.create()
        body = ask_urls(member, image["id"], size=5).json
        assert body["expires_in"] == 300 and "X-Amz-Expires=300&" in body["url"]

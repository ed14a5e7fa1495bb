"""web-download end to end in the moto stack, fetching from a local HTTP server on 127.0.0.1.

The filter is opened for loopback and the server's port only (allowed_networks, allowed_ports);
everything else keeps the shipped defaults, so these tests contact nothing but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.config import set_option
from tests.support.stack_state import bucket_keys, wait_for_executions
from tests.support.web import Handler

DATA = os.urandom(200_000)


@pytest.fixture(scope="module")
def web_handler():
    return Handler


@pytest.fixture
def base(web_base) -> str:
    Handler.routes = {"/disk.img": (200, {}, DATA)}
    return web_base


@pytest.fixture
def stack_config(web_server_config):
    set_option(web_server_config, "glance-api.conf", "DEFAULT", "image_size_cap", "300000")
    return web_server_config


def web_import(api, image_id: str, uri: str, **extra):
    return api.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": "web-download", "uri": uri, **extra}})


def import_and_wait(api, stack, uri: str, **extra) -> tuple[dict, dict]:
    image = api.create()
    reply = web_import(api, image["id"], uri, **extra)
    assert reply.status == 202, reply.text
    [execution] = wait_for_executions(stack)
    [task] = api.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    return api.show(image["id"]), task


def assert_failed_and_nothing_kept(stack, image: dict, task: dict, message: str):
    assert image["status"] == "queued"
    assert image["size"] is None and image["checksum"] is None and image["os_hash_value"] is None
    assert "os_glance_import_task" not in image
    assert task["status"] == "failure"
    assert message in task["message"]
    assert bucket_keys(stack, "StagingBucket") == []
    assert bucket_keys(stack, "StoreBucket") == []


def test_given_a_served_image_when_imported_by_web_download_then_it_is_active_with_the_served_bytes(
    member, stack, base
):
    image, task = import_and_wait(member, stack, f"{base}/disk.img")
    assert image["status"] == "active", task["message"]
    assert image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert task["status"] == "success"
    assert bucket_keys(stack, "StagingBucket") == []
    assert bucket_keys(stack, "StoreBucket") == [f"images/{image['id']}"]


def test_given_a_web_download_when_the_workflow_runs_then_it_downloads_before_verifying_staging(member, stack, base):
    import boto3

    import_and_wait(member, stack, f"{base}/disk.img")
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=stack.outputs["ImportStateMachineArn"])["executions"]
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered[:4] == ["ChooseMethod", "WebDownload", "DownloadDone", "VerifyStaging"]  # one pass: done


def test_given_a_redirect_to_an_allowed_place_when_imported_then_it_is_followed(member, stack, base):
    Handler.routes["/moved"] = (302, {"Location": "/disk.img"}, b"")
    image, task = import_and_wait(member, stack, f"{base}/moved")
    assert image["status"] == "active", task["message"]
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()


def test_given_a_redirect_to_the_metadata_service_when_imported_then_it_fails_and_nothing_is_kept(member, stack, base):
    Handler.routes["/evil"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    image, task = import_and_wait(member, stack, f"{base}/evil")
    assert_failed_and_nothing_kept(stack, image, task, "does not pass filtering")
    assert "link-local" in task["message"]


def test_given_endless_redirects_when_imported_then_it_fails_after_a_bounded_number(member, stack, base):
    Handler.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    image, task = import_and_wait(member, stack, f"{base}/loop")
    assert_failed_and_nothing_kept(stack, image, task, "redirects")


def test_given_fewer_bytes_than_content_length_when_imported_then_it_fails_and_nothing_is_kept(member, stack, base):
    Handler.routes["/short"] = (200, {"Content-Length": str(len(DATA) + 10)}, DATA)
    image, task = import_and_wait(member, stack, f"{base}/short")
    assert_failed_and_nothing_kept(stack, image, task, "Content-Length")


def test_given_a_body_over_the_size_cap_without_content_length_when_imported_then_it_fails(member, stack, base):
    Handler.routes["/big"] = (200, {"Content-Length": None}, os.urandom(300_001))
    image, task = import_and_wait(member, stack, f"{base}/big")
    assert_failed_and_nothing_kept(stack, image, task, "size cap")


def test_given_an_error_status_when_imported_then_the_task_says_so(member, stack, base):
    image, task = import_and_wait(member, stack, f"{base}/missing")
    assert_failed_and_nothing_kept(stack, image, task, "HTTP 404")


def test_given_matching_validation_data_when_imported_then_it_is_active(member, stack, base):
    expected = {"os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(DATA).hexdigest()}
    image, task = import_and_wait(member, stack, f"{base}/disk.img", validation_data=expected)
    assert image["status"] == "active", task["message"]


def test_given_mismatching_validation_data_when_imported_then_it_fails_and_nothing_is_stored(member, stack, base):
    wrong = {"os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(b"other").hexdigest()}
    image, task = import_and_wait(member, stack, f"{base}/disk.img", validation_data=wrong)
    assert_failed_and_nothing_kept(stack, image, task, "os_hash_value")


def test_given_matching_sha256_validation_data_when_imported_then_it_is_active_with_that_digest(member, stack, base):
    expected = {"os_hash_algo": "sha256", "os_hash_value": hashlib.sha256(DATA).hexdigest()}  # a distro's SHA256SUMS
    image, task = import_and_wait(member, stack, f"{base}/disk.img", validation_data=expected)
    assert image["status"] == "active", task["message"]
    assert (image["os_hash_algo"], image["os_hash_value"]) == ("sha256", expected["os_hash_value"])
    assert image["checksum"] == hashlib.md5(DATA).hexdigest() and image["size"] == len(DATA)
    assert bucket_keys(stack, "StoreBucket") == [f"images/{image['id']}"]


def test_given_mismatching_sha256_validation_data_when_imported_then_it_fails_naming_sha256(member, stack, base):
    wrong = {"os_hash_algo": "sha256", "os_hash_value": hashlib.sha256(b"other").hexdigest()}
    image, task = import_and_wait(member, stack, f"{base}/disk.img", validation_data=wrong)
    assert_failed_and_nothing_kept(
        stack, image, task, f"actual sha256 os_hash_value: ({hashlib.sha256(DATA).hexdigest()})"
    )
    assert image["os_hash_algo"] is None


def test_given_malformed_validation_data_when_importing_then_it_is_400_and_nothing_changes(member, stack, base):
    image = member.create()
    reply = web_import(member, image["id"], f"{base}/disk.img", validation_data={"os_hash_value": "abc"})
    assert reply.status == 400
    assert member.show(image["id"])["status"] == "queued"


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/disk.img",
        "http://[::1]/disk.img",
        "ftp://127.0.0.1/disk.img",
        "http://127.0.0.1:1/disk.img",  # port not allowed
    ],
)
def test_given_a_filtered_uri_when_importing_then_it_is_400_and_the_image_stays_queued_without_a_task(
    member, stack, uri
):
    image = member.create()
    reply = web_import(member, image["id"], uri)
    assert reply.status == 400
    assert reply.json["message"] == f"URI for web-download does not pass filtering: {uri}"
    shown = member.show(image["id"])
    assert shown["status"] == "queued" and "os_glance_import_task" not in shown
    assert member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"] == []
    assert wait_for_executions(stack) == []


def test_given_a_staged_image_when_web_download_is_requested_then_it_is_409(member, base):
    image = member.create()
    assert member.stage(image["id"], b"abc").status == 204
    reply = web_import(member, image["id"], f"{base}/disk.img")
    assert reply.status == 409
    assert reply.json["message"] == "Image needs to be in 'queued' state to use 'web-download' method"


def test_given_a_failed_web_download_when_imported_again_then_it_succeeds(member, stack, base):
    image = member.create()
    assert web_import(member, image["id"], f"{base}/missing").status == 202
    wait_for_executions(stack)
    assert member.show(image["id"])["status"] == "queued"
    assert web_import(member, image["id"], f"{base}/disk.img").status == 202
    wait_for_executions(stack)
    assert member.show(image["id"])["status"] == "active"

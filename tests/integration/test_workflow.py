"""moto executes the real state machine; every step is our real handler, run in-process."""

from __future__ import annotations

import hashlib
import os

import boto3
import pytest

from tests.support.config import set_option
from tests.support.stack_state import bucket_keys, wait_for_executions
from tests.support.workflow import import_and_wait, states_entered

pytestmark = pytest.mark.fast  # in the fast tier (make test-fast)


def test_a_glance_direct_import_ends_active_with_size_and_both_hashes(member, stack):
    data = os.urandom(300_000)
    image = import_and_wait(member, stack, data)
    assert image["status"] == "active"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image["os_glance_importing_to_stores"] == "" and image["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in image  # lock released


def test_a_successful_import_moves_the_data_from_staging_to_the_store(member, stack):
    image = import_and_wait(member, stack, b"image bytes")
    assert bucket_keys(stack, "StagingBucket") == []
    assert bucket_keys(stack, "StoreBucket") == [f"images/{image['id']}"]
    body = boto3.client("s3").get_object(Bucket=stack.physical_name("StoreBucket"), Key=f"images/{image['id']}")
    assert body["Body"].read() == b"image bytes"


def test_the_task_records_success_with_the_image_id(member, stack):
    image = import_and_wait(member, stack, b"abc")
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert task["status"] == "success"
    assert task["result"] == {"image_id": image["id"]}
    assert task["expires_at"] is not None


def test_states_run_in_glances_order_with_the_configured_plugins(member, stack):
    import_and_wait(member, stack, b"abc")
    assert states_entered(stack) == [
        "VerifyStaging",
        "Plugin-no_op",
        "Plugin-inject_image_metadata",
        "ImportToStore",
        "StoreCopyDone",  # the pass loop's check: one pass was enough
        "CompleteImport",
        "DeleteStaging",
    ]


def test_a_members_import_gets_the_injected_property(member, stack):
    assert import_and_wait(member, stack, b"abc")["property1"] == "value1"


def test_an_admins_import_gets_nothing_injected(admin, stack):
    assert "property1" not in import_and_wait(admin, stack, b"abc")


def test_the_image_is_importing_and_locked_as_soon_as_the_import_is_accepted(member, stack):
    image = member.create()
    member.stage(image["id"], b"abc")
    member.import_(image["id"])
    shown = member.show(image["id"])
    # either still running or already done: never back in 'uploading' on success
    assert shown["status"] in ("importing", "active")
    if shown["status"] == "importing":
        assert shown["os_glance_import_task"]


def test_a_second_import_while_one_holds_the_lock_is_409(member, stack):
    image = member.create()
    member.stage(image["id"], b"abc")
    first = member.import_(image["id"])
    second = member.import_(image["id"])
    assert first.status == 202
    assert second.status == 409
    wait_for_executions(stack)
    tasks = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert len(tasks) == 1


class TestPluginFailure:
    """A plugin that raises: the import reverts, nothing is half-written, and it can be retried."""

    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(
            config_dir,
            "glance-image-import.conf",
            "image_import_opts",
            "image_import_plugins",
            "[no_op, stamp_import_method, inject_image_metadata]",
        )
        return config_dir

    def test_the_third_party_plugin_runs_in_its_configured_place(self, member, stack):
        image = import_and_wait(member, stack, b"abc")
        assert image["imported_with"] == "glance-direct"
        assert states_entered(stack)[1:4] == [
            "Plugin-no_op",
            "Plugin-stamp_import_method",
            "Plugin-inject_image_metadata",
        ]

    def test_a_failing_plugin_returns_the_image_to_uploading_with_its_data_kept(self, member, stack):
        image = import_and_wait(member, stack, b"abc", fail_in_plugin="yes")
        assert image["status"] == "uploading"
        assert image["size"] == 3
        assert image["checksum"] is None and image["os_hash_value"] is None
        assert "os_glance_import_task" not in image
        assert "property1" not in image  # later plugins never ran
        assert bucket_keys(stack, "StagingBucket") == [f"staging/{image['id']}"]
        assert bucket_keys(stack, "StoreBucket") == []

    def test_the_failed_task_says_why_and_what_was_kept(self, member, stack):
        image = import_and_wait(member, stack, b"abc", fail_in_plugin="yes")
        [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
        assert task["status"] == "failure"
        assert "sample plugin refused the image" in task["message"]
        assert "staged data kept" in task["message"]

    def test_the_execution_ends_failed_through_the_revert_state(self, member, stack):
        import_and_wait(member, stack, b"abc", fail_in_plugin="yes")
        entered = states_entered(stack)
        assert entered[-2:] == ["RevertImport", "ImportFailed"]
        assert "ImportToStore" not in entered

    def test_a_reverted_import_can_be_started_again(self, member, stack):
        image = import_and_wait(member, stack, b"abc", fail_in_plugin="yes")
        assert member.import_(image["id"]).status == 202  # staged data kept: no new upload needed


def test_staged_data_that_changed_after_staging_fails_verification_and_reverts(member, stack):
    image = member.create()
    member.stage(image["id"], b"abc")
    # someone replaces the staged object behind the API's back
    boto3.client("s3").put_object(
        Bucket=stack.physical_name("StagingBucket"), Key=f"staging/{image['id']}", Body=b"abcd"
    )
    member.import_(image["id"])
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "FAILED"
    shown = member.show(image["id"])
    assert shown["status"] == "uploading"
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert "Image size mismatch. Expected 3 but got 4" in task["message"]
    assert bucket_keys(stack, "StoreBucket") == []


def test_staged_data_that_vanished_returns_the_image_to_queued(member, stack):
    image = member.create()
    member.stage(image["id"], b"abc")
    boto3.client("s3").delete_object(Bucket=stack.physical_name("StagingBucket"), Key=f"staging/{image['id']}")
    member.import_(image["id"])
    wait_for_executions(stack)
    shown = member.show(image["id"])
    assert shown["status"] == "queued"
    assert shown["size"] is None
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert "No staged data found" in task["message"]


def test_deleting_an_active_image_removes_its_stored_data(member, stack):
    image = import_and_wait(member, stack, b"abc")
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204
    assert bucket_keys(stack, "StoreBucket") == []

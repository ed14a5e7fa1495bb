"""Faults injected into the moto stack: whatever breaks, the import ends consistent.

Each test ends by checking the raw resources (tests/support/consistency.py): no image left
'importing' or locked, no half-written record, every task settled with a message, no object that
no image needs, and no multipart upload left open in any bucket.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading

import pytest

from image_import.adapters import aws
from tests.support.config import set_option
from tests.support.consistency import assert_consistent, keys
from tests.support.records import stored_tasks
from tests.support.stack_state import wait_for_executions
from tests.support.workflow import import_and_wait, states_entered

PLUGIN_FUNCTION = "StampImportMethodPluginFunction"


@pytest.fixture
def stack_config(config_dir):
    set_option(
        config_dir,
        "glance-image-import.conf",
        "image_import_opts",
        "image_import_plugins",
        "[no_op, stamp_import_method, inject_image_metadata]",
    )
    return config_dir


def task_of(api, image_id: str) -> dict:
    [task] = api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
    return task


def test_a_plugin_that_raises_leaves_everything_consistent(member, stack):
    image = import_and_wait(member, stack, b"abc", fail_in_plugin="yes")
    assert image["status"] == "uploading"
    assert_consistent(stack)


class TestPluginTimeout:
    @pytest.fixture
    def short_timeout(self, stack):
        # the plugin's function gets a half-second Timeout; the local runtime enforces it as Lambda does
        runtime = stack.runtime
        name = stack.physical_name(PLUGIN_FUNCTION)
        runtime.functions[name] = dataclasses.replace(runtime.functions[name], timeout=0.5)
        yield
        for thread in runtime.timed_out:  # the hung handler runs on: let it end inside moto
            thread.join(10)

    def hung_import(self, member, stack):
        image = import_and_wait(member, stack, b"abc", sleep_in_plugin="1.5")
        for thread in stack.runtime.timed_out:
            thread.join(10)
        return member.show(image["id"])

    def test_a_plugin_that_outruns_its_timeout_is_reverted(self, member, stack, short_timeout):
        image = self.hung_import(member, stack)
        assert image["status"] == "uploading" and "imported_with" not in image
        assert states_entered(stack)[-2:] == ["RevertImport", "ImportFailed"]

    def test_the_timed_out_task_says_a_step_timed_out(self, member, stack, short_timeout):
        image = self.hung_import(member, stack)
        task = task_of(member, image["id"])
        assert task["status"] == "failure" and "a step timed out" in task["message"]

    def test_a_timed_out_import_leaves_everything_consistent(self, member, stack, short_timeout):
        self.hung_import(member, stack)
        assert_consistent(stack)


class TestStoreFailsHalfWay:
    """The store accepts one part, then keeps failing: the retries give up, the upload is aborted and the
    import reverted."""

    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(
            config_dir, "glance-image-import.conf", "image_import_opts", "max_bytes_per_pass", str(8 * 1024 * 1024)
        )
        return config_dir

    @pytest.fixture
    def stack_large_requests(self):
        return True  # 12 MiB staged through the API, beyond what AWS takes: two store parts are the subject

    @pytest.fixture
    def failing_store(self, stack):
        store = stack.physical_name("StoreBucket")
        parts: list[int] = []  # parts copied into the store; None at the end switches the failure off

        def upload_part_copy(params, **_):
            if params.get("Bucket") == store and (not parts or parts[-1] is not None):
                parts.append(params["PartNumber"])
                if params["PartNumber"] > 1:
                    raise ConnectionError("store went away half-way")

        events = aws.client("s3").meta.events  # the client every handler in this process uses
        events.register("provide-client-params.s3.UploadPartCopy", upload_part_copy)
        yield parts
        events.unregister("provide-client-params.s3.UploadPartCopy", upload_part_copy)

    DATA = os.urandom(12 * 1024 * 1024)  # two parts (8 MiB + 4 MiB): the second one fails

    def test_the_image_returns_to_uploading_with_its_data_kept(self, member, stack, failing_store):
        image = import_and_wait(member, stack, self.DATA)
        assert 1 in failing_store and 2 in failing_store  # it really failed half-way, not at the start
        assert image["status"] == "uploading" and image["checksum"] is None
        assert keys(stack, "StagingBucket") == {f"staging/{image['id']}"}

    def test_the_task_names_the_store_error(self, member, stack, failing_store):
        image = import_and_wait(member, stack, self.DATA)
        assert "store went away half-way" in task_of(member, image["id"])["message"]

    def test_nothing_is_left_in_the_store_nor_any_upload_open(self, member, stack, failing_store):
        import_and_wait(member, stack, self.DATA)
        assert_consistent(stack)

    def test_once_the_store_recovers_the_retry_ends_active(self, member, stack, failing_store):
        image = import_and_wait(member, stack, self.DATA)
        failing_store.append(None)  # the store recovers
        assert member.import_(image["id"]).status == 202
        wait_for_executions(stack)
        shown = member.show(image["id"])
        assert shown["status"] == "active", shown
        assert shown["checksum"] == hashlib.md5(self.DATA).hexdigest()
        assert_consistent(stack)


class TestImageDeletedDuringImport:
    def test_the_import_stops_and_its_task_says_the_image_was_deleted(self, member, stack):
        image = member.create(delete_image_in_plugin="yes")
        member.stage(image["id"], b"abc")
        member.import_(image["id"])
        [execution] = wait_for_executions(stack)
        assert execution["status"] == "FAILED"
        assert member.call("GET", f"/v2/images/{image['id']}").status == 404
        [task] = stored_tasks(stack.physical_name("TasksTable"))
        assert task.status == "failure" and "deleted" in task.message

    def test_nothing_is_left_behind(self, member, stack):
        image = member.create(delete_image_in_plugin="yes")
        member.stage(image["id"], b"abc")
        member.import_(image["id"])
        wait_for_executions(stack)
        assert_consistent(stack)


class TestTheSameImportTwiceAtOnce:
    def race(self, member, image_id: str) -> list[int]:
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def fire():
            barrier.wait()
            statuses.append(member.import_(image_id).status)

        threads = [threading.Thread(target=fire) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return sorted(statuses)

    def test_exactly_one_is_accepted_and_one_refused(self, member, stack):
        image = member.create()
        member.stage(image["id"], b"abc")
        assert self.race(member, image["id"]) == [202, 409]

    def test_exactly_one_execution_runs_and_the_image_ends_active(self, member, stack):
        image = member.create()
        member.stage(image["id"], b"abc")
        self.race(member, image["id"])
        executions = wait_for_executions(stack)
        assert len(executions) == 1
        assert member.show(image["id"])["status"] == "active"
        assert len(member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]) == 1
        assert_consistent(stack)

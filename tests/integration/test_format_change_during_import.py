"""No format change after inspection reaches ``active`` (issue 21, the high finding).

The attack: create with ``container_format: ovf`` (a container nobody inspects, as in Glance), stage a
qcow2 whose backing file names a host file, import, and once the store step has inspected the data (as
``ovf``: nothing to check) switch the container to ``bare``. The change is made at a fixed point between
two states, by a wrapper around the next state's function, so every run hits the window:

- through the API (PATCH): refused while the import holds the lock, in Glance's 403 wording;
- behind the API (any writer that bypasses PATCH: a plugin, a future code path): activation compares the
  record's formats with the ones the data was inspected as, and the import fails with its data reverted.

Single store (between ImportToStore and CompleteImport) and several (during the copy into the others).
"""

from __future__ import annotations

import threading

import pytest

from tests.support import disk_images
from tests.support.api import Api
from tests.support.multi_store import configure_stores, create_store_buckets
from tests.support.stack_state import bucket_keys, wait_for_executions

REFUSED = "Attribute container_format can be only replaced for a queued image."


def host_file_qcow2() -> bytes:
    return disk_images.qcow2(backing_file="/etc/passwd")


def before_function(stack, function_id: str, action, when=lambda event: True) -> list:
    """Run ``action(event)`` once, just before the function behind ``function_id`` next runs an event
    ``when`` accepts; what ``action`` returned is appended to the list returned."""
    runtime = stack.runtime
    name = stack.physical_name(function_id)
    original = runtime._handler(runtime.functions[name])
    results: list = []
    once = threading.Lock()  # the Map runs its iterations side by side: only the first acts

    def paused(event, context):
        if when(event) and once.acquire(blocking=False):
            results.append(action(event))
        return original(event, context)

    runtime._handlers[name] = paused
    return results


def patch_container(api: Api, image_id: str, value: str = "bare"):
    body = [{"op": "replace", "path": "/container_format", "value": value}]
    return api.call(
        "PATCH", f"/v2/images/{image_id}", body, {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    )


def write_behind_the_api(image_id: str, value: str = "bare") -> None:
    """The record changed directly, as no PATCH may: what activation must catch on its own."""
    from image_import.adapters.ports import default_ports

    def change(image) -> bool:
        image.container_format = value
        return True

    default_ports().images.edit(image_id, change, attempts=5)


def staged_ovf(api: Api) -> str:
    image = api.create(disk_format="qcow2", container_format="ovf")
    assert api.stage(image["id"], host_file_qcow2()).status == 204
    return image["id"]


def failure_message(api: Api, image_id: str) -> str:
    [task] = api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
    assert task["status"] == "failure"
    return task["message"]


# --- one store: the window between ImportToStore and CompleteImport ------------------------------


def test_a_patch_of_the_formats_while_importing_is_refused_and_the_image_keeps_its_inspected_formats(stack, member):
    image_id = staged_ovf(member)
    replies = before_function(stack, "CompleteImportFunction", lambda event: patch_container(member, image_id))
    assert member.import_(image_id).status == 202
    wait_for_executions(stack)
    [reply] = replies
    assert (reply.status, reply.json["message"]) == (403, REFUSED)
    image = member.show(image_id)
    assert (image["status"], image["container_format"]) == ("active", "ovf")


def test_a_format_changed_behind_the_api_after_the_store_step_fails_the_import_and_reverts_its_data(stack, member):
    image_id = staged_ovf(member)
    before_function(stack, "CompleteImportFunction", lambda event: write_behind_the_api(image_id))
    assert member.import_(image_id).status == 202
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "FAILED"
    image = member.show(image_id)
    assert image["status"] == "uploading"  # the staged data kept for a retry, nothing claimed of it
    assert image["checksum"] is None and image["os_hash_value"] is None
    assert bucket_keys(stack, "StoreBucket") == []
    assert "changed after the data was inspected as qcow2/ovf" in failure_message(member, image_id)


def test_the_store_step_refuses_a_format_changed_before_it_recorded_the_digests(stack, member):
    """The change lands during the copy (after the first pass inspected the data as ovf)."""
    image_id = staged_ovf(member)
    before_function(
        stack,
        "ImportToStoreFunction",
        lambda event: write_behind_the_api(image_id),
        when=lambda event: (event.get("store") or {}).get("progress") is None,
    )
    assert member.import_(image_id).status == 202
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "FAILED"
    assert member.show(image_id)["status"] == "uploading"
    assert bucket_keys(stack, "StoreBucket") == []


# --- several stores: the window is the whole copy into the other stores ---------------------------


def is_copy(event) -> bool:
    return bool(event.get("target_store"))


def import_everywhere(api: Api, image_id: str):
    body = {"method": {"name": "glance-direct"}, "all_stores": True}
    return api.call("POST", f"/v2/images/{image_id}/import", body)


class TestSeveralStores:
    @pytest.fixture
    def stack_config(self, config_dir):
        return configure_stores(config_dir)

    @pytest.fixture
    def stores_stack(self, stack):
        create_store_buckets()
        return stack

    def test_a_patch_during_the_copies_is_refused(self, stores_stack, admin):
        image_id = staged_ovf(admin)
        replies = before_function(
            stores_stack, "ImportToStoreFunction", lambda event: patch_container(admin, image_id), when=is_copy
        )
        assert import_everywhere(admin, image_id).status == 202
        wait_for_executions(stores_stack)
        [reply] = replies
        assert (reply.status, reply.json["message"]) == (403, REFUSED)
        image = admin.show(image_id)
        assert (image["status"], image["container_format"]) == ("active", "ovf")

    def test_a_format_changed_during_the_copies_fails_the_import_in_every_store(self, stores_stack, admin):
        from tests.support.stores import stored

        image_id = staged_ovf(admin)
        before_function(
            stores_stack, "ImportToStoreFunction", lambda event: write_behind_the_api(image_id), when=is_copy
        )
        assert import_everywhere(admin, image_id).status == 202
        [execution] = wait_for_executions(stores_stack)
        assert execution["status"] == "FAILED"
        image = admin.show(image_id)
        assert image["status"] == "uploading" and image.get("stores") is None
        assert stored(stores_stack, image_id) == {"fast": None, "cheap": None, "edge": None}
        assert "changed after the data was inspected as qcow2/ovf" in failure_message(admin, image_id)

    def test_a_copy_image_whose_formats_changed_behind_the_api_fails_and_copies_nothing(self, stores_stack, admin):
        from tests.support.stores import stored

        image_id = staged_ovf(admin)
        body = {"method": {"name": "glance-direct"}, "stores": ["fast"]}
        assert admin.call("POST", f"/v2/images/{image_id}/import", body).status == 202
        wait_for_executions(stores_stack)
        assert admin.show(image_id)["status"] == "active"
        before_function(
            stores_stack, "ImportToStoreFunction", lambda event: write_behind_the_api(image_id), when=is_copy
        )
        copy = {"method": {"name": "copy-image"}, "stores": ["cheap"]}
        assert admin.call("POST", f"/v2/images/{image_id}/import", copy).status == 202
        wait_for_executions(stores_stack)
        tasks = admin.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
        [copied] = [t for t in tasks if t["input"]["import_req"]["method"]["name"] == "copy-image"]
        assert copied["status"] == "failure"
        assert "changed after the data was inspected as qcow2/ovf" in copied["message"]
        image = admin.show(image_id)
        assert image["status"] == "active" and image["stores"] == "fast"
        assert stored(stores_stack, image_id)["cheap"] is None

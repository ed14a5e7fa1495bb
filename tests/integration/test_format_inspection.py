"""Know what the image is, through the whole stack: glance-direct, PUT /file and a direct upload.

Good images of every inspectable format become active with their virtual size; data that is not
its disk_format, or that would make a hypervisor open a host file (CVE-2024-32498), fails: the
import reverts as any failed import does (staged data kept, store empty, the task says why), and
PUT /file answers 415 as Glance does, with the image back to queued.
"""

from __future__ import annotations

import hashlib

import pytest
import requests

from tests.support import disk_images
from tests.support.config import set_option
from tests.support.disk_images import MIB
from tests.support.stack_state import bucket_keys, wait_for_executions

GOOD = {
    "qcow2": (lambda: disk_images.qcow2(128 * MIB), 128 * MIB),
    "vmdk": (lambda: disk_images.vmdk(64 * MIB), 64 * MIB),
    "vhd": (lambda: disk_images.vhd(32 * MIB), 32 * MIB),
    "vhdx": (lambda: disk_images.vhdx(256 * MIB), 256 * MIB),
    "iso": (lambda: disk_images.iso(64), 64 * 2048),
}

UNSAFE = {
    "qcow2-backing-file": ("qcow2", lambda: disk_images.qcow2(backing_file="/etc/nova/nova.conf"), "backing_file"),
    "qcow2-data-file": ("qcow2", lambda: disk_images.qcow2(data_file="/dev/sda"), "data_file"),
    "vmdk-flat-extent": (
        "vmdk",
        lambda: disk_images.vmdk(extent='RW 2048 FLAT "/etc/shadow" 0'),
        "Invalid extent filenames found",
    ),
    "qcow2-declared-raw": ("raw", lambda: disk_images.qcow2(backing_file="/etc/nova/nova.conf"), "backing_file"),
    "zeros-declared-qcow2": (
        "qcow2",
        lambda: disk_images.zeros(4096),
        "Image disk_format qcow2 does not match stream data raw",
    ),
}


def import_and_wait(api, stack, data: bytes, disk_format: str, **fields) -> dict:
    image = api.create(disk_format=disk_format, **fields)
    assert api.stage(image["id"], data).status == 204
    assert api.import_(image["id"]).status == 202
    assert {execution["status"] for execution in wait_for_executions(stack)} <= {"SUCCEEDED", "FAILED"}
    return api.show(image["id"])


def put_file(api, image_id: str, data: bytes):
    return api.call("PUT", f"/v2/images/{image_id}/file", data, {"Content-Type": "application/octet-stream"})


def task_message(api, image_id: str) -> str:
    [task] = api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
    assert task["status"] == "failure"
    return task["message"]


# --- glance-direct -------------------------------------------------------------------------------


@pytest.mark.parametrize("disk_format", sorted(GOOD))
def test_a_glance_direct_import_of_a_good_image_records_its_virtual_size(member, stack, disk_format):
    build, virtual_size = GOOD[disk_format]
    data = build()
    image = import_and_wait(member, stack, data, disk_format)
    assert (image["status"], image["size"], image["virtual_size"]) == ("active", len(data), virtual_size)
    assert image["checksum"] == hashlib.md5(data).hexdigest()


def test_raw_data_has_its_size_as_virtual_size(member, stack):
    data = disk_images.raw(300_000)
    image = import_and_wait(member, stack, data, "raw")
    assert (image["status"], image["virtual_size"]) == ("active", len(data))


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_a_glance_direct_import_of_an_unsafe_or_mislabelled_image_fails_and_says_why(member, stack, case):
    disk_format, build, reason = UNSAFE[case]
    image = import_and_wait(member, stack, build(), disk_format)
    assert image["status"] == "uploading"  # back as any failed import: staged data kept, retry possible
    assert image["checksum"] is None and image["virtual_size"] is None
    message = task_message(member, image["id"])
    assert reason in message and "staged data kept" in message
    assert bucket_keys(stack, "StoreBucket") == []
    assert bucket_keys(stack, "StagingBucket") == [f"staging/{image['id']}"]


class TestWhenTheFormatMatchIsNotRequired:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-api.conf", "image_format", "require_image_format_match", "false")
        return config_dir

    def test_data_that_is_not_its_disk_format_is_accepted_without_a_virtual_size(self, member, stack):
        mislabelled = import_and_wait(member, stack, disk_images.zeros(4096), "qcow2")
        assert (mislabelled["status"], mislabelled["virtual_size"]) == ("active", None)
        matching = import_and_wait(member, stack, disk_images.qcow2(128 * MIB), "qcow2")
        assert (matching["status"], matching["virtual_size"]) == ("active", 128 * MIB)

    def test_an_unsafe_image_is_still_refused(self, member, stack):
        data = disk_images.qcow2(backing_file="/etc/nova/nova.conf")
        image = import_and_wait(member, stack, data, "vmdk")
        assert image["status"] == "uploading"
        assert "backing_file" in task_message(member, image["id"])


class TestVmdkAllowedTypes:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-api.conf", "image_format", "vmdk_allowed_types", "streamOptimized")
        return config_dir

    def test_a_vmdk_create_type_left_out_of_the_option_is_refused(self, member, stack):
        image = import_and_wait(member, stack, disk_images.vmdk(), "vmdk")
        assert image["status"] == "uploading"
        assert "vmdk_allowed_types (streamOptimized)" in task_message(member, image["id"])


# --- PUT /file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("disk_format", ["qcow2", "vhdx"])
def test_put_file_of_a_good_image_records_its_virtual_size(member, stack, disk_format):
    build, virtual_size = GOOD[disk_format]
    image = member.create(disk_format=disk_format)
    assert put_file(member, image["id"], build()).status == 204
    shown = member.show(image["id"])
    assert (shown["status"], shown["virtual_size"]) == ("active", virtual_size)


@pytest.mark.parametrize("case", ["qcow2-backing-file", "vmdk-flat-extent", "zeros-declared-qcow2"])
def test_put_file_of_an_unsafe_or_mislabelled_image_is_415_and_the_image_stays_queued(member, stack, case):
    disk_format, build, reason = UNSAFE[case]
    image = member.create(disk_format=disk_format)
    reply = put_file(member, image["id"], build())
    assert reply.status == 415  # Glance's InvalidImageData (checked against Glance 33)
    assert reason in reply.text
    shown = member.show(image["id"])
    assert (shown["status"], shown["size"], shown["checksum"], shown["virtual_size"]) == ("queued", None, None, None)
    assert bucket_keys(stack, "StoreBucket") == []


# --- direct upload (presigned URL, then the S3 event) -------------------------------------------


def upload_directly(api, stack, data: bytes, disk_format: str) -> dict:
    image = api.create(disk_format=disk_format)
    reply = api.call("POST", f"/v2/images/{image['id']}/upload-urls", {"size": len(data), "import": True})
    assert reply.status == 200, reply.text
    assert requests.put(reply.json["url"], data=data, timeout=30).status_code == 200
    stack.settle()
    [execution] = wait_for_executions(stack)
    assert execution["status"] in ("SUCCEEDED", "FAILED")
    return api.show(image["id"])


def test_a_direct_upload_of_a_good_image_records_its_virtual_size(member, stack):
    image = upload_directly(member, stack, disk_images.qcow2(128 * MIB), "qcow2")
    assert (image["status"], image["virtual_size"]) == ("active", 128 * MIB)


@pytest.mark.parametrize("case", ["qcow2-data-file", "vmdk-flat-extent"])
def test_a_direct_upload_of_an_unsafe_image_fails_and_says_why(member, stack, case):
    disk_format, build, reason = UNSAFE[case]
    image = upload_directly(member, stack, build(), disk_format)
    assert image["status"] == "uploading" and image["virtual_size"] is None
    assert reason in task_message(member, image["id"])
    assert bucket_keys(stack, "StoreBucket") == []

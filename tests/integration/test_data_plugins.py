"""Data plugins through the real state machine (moto runs the ASL, every step our handler):
the example configuration's chain, decompression then conversion, and a failure after them."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import shutil

import boto3
import pytest

from tests.support.config import set_option
from tests.support.data_plugins import local_convert, payload, written
from tests.support.paths import ROOT
from tests.support.stack_state import bucket_keys
from tests.support.workflow import import_and_wait, states_entered

EXAMPLE = ROOT / "config/examples/data-plugins"
needs_qemu_img = pytest.mark.skipif(
    shutil.which("qemu-img") is None,
    reason="qemu-img is not installed (apt-get install qemu-utils); .ci/run installs it",
)


@pytest.fixture
def stack_config(tmp_path):
    target = tmp_path / "data-plugins"
    shutil.copytree(EXAMPLE, target)
    return target


def stored(stack, image_id: str) -> bytes:
    bucket = stack.physical_name("StoreBucket")
    return boto3.client("s3").get_object(Bucket=bucket, Key=f"images/{image_id}")["Body"].read()


@needs_qemu_img
def test_a_qcow2_xz_is_imported_as_raw_with_the_digests_of_the_stored_bytes(member, stack):
    disk = written("qcow2")
    expected = local_convert(disk, "qcow2")
    image = import_and_wait(member, stack, lzma.compress(disk), disk_format="qcow2", container_format="bare")
    assert image["status"] == "active", member.call("GET", f"/v2/images/{image['id']}/tasks").json
    assert states_entered(stack)[1:4] == [
        "Plugin-image_decompression",
        "Plugin-image_conversion",
        "Plugin-inject_image_metadata",
    ]
    assert stored(stack, image["id"]) == expected
    assert image["disk_format"] == "raw" and image["size"] == len(expected) and image["virtual_size"] == len(expected)
    assert image["checksum"] == hashlib.md5(expected).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(expected).hexdigest()
    assert bucket_keys(stack, "StagingBucket") == []  # staged object and both replacements removed


def test_a_gzipped_raw_image_is_stored_decompressed(member, stack):
    data = payload(MIB := 1024 * 1024)
    image = import_and_wait(member, stack, gzip.compress(data), disk_format="raw", container_format="bare")
    assert image["status"] == "active" and image["size"] == MIB
    assert stored(stack, image["id"]) == data


class TestFailureAfterADataPlugin:
    @pytest.fixture
    def stack_config(self, tmp_path):
        target = tmp_path / "data-plugins"
        shutil.copytree(EXAMPLE, target)
        set_option(
            target,
            "glance-image-import.conf",
            "image_import_opts",
            "image_import_plugins",
            "[image_decompression, stamp_import_method]",
        )
        return target

    def test_the_revert_removes_the_replacement_and_keeps_the_staged_data_with_its_size(self, member, stack):
        compressed = gzip.compress(payload(300_000))
        image = import_and_wait(
            member, stack, compressed, disk_format="raw", container_format="bare", fail_in_plugin="yes"
        )
        assert image["status"] == "uploading" and image["size"] == len(compressed)
        assert bucket_keys(stack, "StagingBucket") == [f"staging/{image['id']}"]

"""End to end with python-glanceclient against the local stack started on the example configuration
``config/examples/data-plugins`` (as ``IMAGE_IMPORT_CONFIG_DIR=config/examples/data-plugins make run``):
image_decompression and image_conversion (output_format = raw) on real files."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import shutil

import pytest

from tests.support.data_plugins import local_convert, payload, written
from tests.support.e2e import glance, image_id_from
from tests.support.paths import ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("qemu-img") is None,
        reason="qemu-img is not installed (apt-get install qemu-utils); .ci/run installs it",
    ),
]


@pytest.fixture
def service_config():
    return ROOT / "config/examples/data-plugins"


def import_file(service, path, disk_format, tmp_path) -> dict:
    created = glance(
        service, "member-token", "image-create-via-import", "--name", path.name, "--disk-format", disk_format,
        "--container-format", "bare", "--import-method", "glance-direct", "--file", str(path), tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return service.wait_for_status(image_id_from(created.stdout), {"active", "uploading", "queued"})


def downloaded(service, image_id, tmp_path) -> bytes:
    target = tmp_path / "copy"
    result = glance(service, "member-token", "image-download", image_id, "--file", str(target), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr  # glanceclient checks what it gets against os_hash_value
    return target.read_bytes()


def test_given_a_qcow2_xz_when_glanceclient_imports_it_then_it_is_stored_as_the_raw_qemu_img_makes(service, tmp_path):
    disk = written("qcow2")
    path = tmp_path / "disk.qcow2.xz"
    path.write_bytes(lzma.compress(disk))
    image = import_file(service, path, "qcow2", tmp_path)
    assert image["status"] == "active", service.logs()
    expected = local_convert(disk, "qcow2")
    assert (image["disk_format"], image["size"], image["virtual_size"]) == ("raw", len(expected), len(expected))
    assert image["os_hash_value"] == hashlib.sha512(expected).hexdigest()
    assert downloaded(service, image["id"], tmp_path) == expected


def test_given_a_gzipped_raw_image_when_glanceclient_imports_it_then_it_is_stored_decompressed(service, tmp_path):
    data = payload(2 * 1024 * 1024)
    path = tmp_path / "disk.img.gz"
    path.write_bytes(gzip.compress(data))
    image = import_file(service, path, "raw", tmp_path)
    assert image["status"] == "active", service.logs()
    assert image["size"] == len(data) and image["checksum"] == hashlib.md5(data).hexdigest()
    assert downloaded(service, image["id"], tmp_path) == data

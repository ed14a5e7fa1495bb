"""End to end: python-glanceclient's multi-store commands against the local stack on
config/examples/multi-store (three S3 stores, one in a second region)."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.support.e2e import glance, image_id_from
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def service_config(tmp_path):
    target = tmp_path / "multi-store"
    shutil.copytree(ROOT / "config" / "examples" / "multi-store", target)
    return target


def test_glanceclient_imports_into_stores_copies_and_removes_from_a_store(service, tmp_path):
    def run(*args, token="admin-token"):
        result = glance(service, token, *args, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    def stores_of(image_id, wanted):
        """The image once its stores are ``wanted`` and no store is still being written (60 s at most)."""
        deadline = time.monotonic() + 60
        while True:
            image = json.loads(_show(service, image_id))
            done = image.get("stores") == wanted and not image.get("os_glance_importing_to_stores")
            if done or time.monotonic() > deadline:
                return image
            time.sleep(0.5)

    info = run("stores-info")
    assert "fast" in info and "regional" in info and "slow" in info
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(b"multi-store e2e " * 4096)
    created = run("image-create-via-import", "--name", "ms", "--disk-format", "raw", "--container-format", "bare",
                  "--import-method", "glance-direct", "--file", str(image_file), "--stores", "fast,slow")  # fmt: skip
    image_id = image_id_from(created)
    assert stores_of(image_id, "fast,slow")["status"] == "active"
    run("image-import", image_id, "--import-method", "copy-image", "--stores", "regional")
    assert stores_of(image_id, "fast,regional,slow")["stores"] == "fast,regional,slow"
    run("stores-delete", image_id, "--store", "regional")
    assert stores_of(image_id, "fast,slow")["stores"] == "fast,slow"


def _show(service, image_id: str) -> str:
    import urllib.request

    request = urllib.request.Request(f"{service.url}/v2/images/{image_id}", headers={"X-Auth-Token": "admin-token"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()

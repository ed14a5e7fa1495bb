"""The import scenario over HTTP, against every target: the local stack, and a deployed stack when one is named.

Plain HTTP for each step and its answer, then python-glanceclient as a user runs it. Sizes stay under what
API Gateway and Lambda carry per request (about 4.5 MB of image); bigger images go straight to S3
(test_direct_upload.py).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.e2e import glance, glance_direct_import, image_id_from

pytestmark = pytest.mark.e2e

# what the shipped config/glance-image-import.conf injects into a member's import (inject_image_metadata);
# a deployed stack carries the config/ of the checkout it was built from
INJECTED = {"property1": "value1"}


def test_versions_are_open_and_images_need_a_token(target):
    status, _, body = target.request("GET", "/versions", token=None)
    assert status == 200 and body["versions"]
    assert target.request("GET", "/v2/images", token=None)[0] == 401


def test_create_stage_import_then_download_round_trips_the_bytes(target):
    data = os.urandom(2 * 1024 * 1024 + 123)
    image_id = target.create_image(name="e2e-glance-direct")
    status, _, body = target.request(
        "PUT", f"/v2/images/{image_id}/stage", body=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert status == 204, body
    staged = target.request("GET", f"/v2/images/{image_id}")[2]
    assert (staged["status"], staged["size"]) == ("uploading", len(data))

    status, _, body = target.request(
        "POST", f"/v2/images/{image_id}/import", body={"method": {"name": "glance-direct"}}
    )
    assert status == 202, body
    image = target.wait_for_status(image_id, {"active", "uploading", "queued"})  # a failed import reverts
    assert image["status"] == "active", f"{image}\n{target.logs()}"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert {k: image.get(k) for k in INJECTED} == INJECTED  # a member's import gets the injected property

    status, _, body = target.request("GET", f"/v2/images/{image_id}/tasks")
    assert status == 200
    assert [(t["type"], t["status"]) for t in body["tasks"]] == [("api_image_import", "success")]

    status, headers, downloaded = target.download(image_id)
    assert status == 200
    assert downloaded == data
    assert headers["Content-MD5"] == hashlib.md5(data).hexdigest()


def test_glanceclient_image_create_via_import_ends_active_with_the_files_hashes_and_downloads(target, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 123)
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(data)
    result = glance_direct_import(target, target.token, "e2e-glanceclient", image_file, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout + target.logs()
    image_id = target.track(image_id_from(result.stdout))
    image = target.wait_for_status(image_id, {"active", "uploading", "queued"})
    assert image["status"] == "active", image
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image["size"] == len(data)
    assert {k: image.get(k) for k in INJECTED} == INJECTED

    copy = tmp_path / "copy.img"
    downloaded = glance(target, target.token, "image-download", image_id, "--file", str(copy), tmp_path=tmp_path)
    assert downloaded.returncode == 0, downloaded.stderr  # glanceclient checks the bytes against os_hash_value
    assert copy.read_bytes() == data


def test_glanceclient_import_info_and_image_tasks_as_against_single_store_glance(target, tmp_path):
    info = glance(target, target.token, "import-info", tmp_path=tmp_path)
    assert info.returncode == 0, info.stderr
    cells = "".join(line.strip().strip("|").split("|")[-1].strip() for line in info.stdout.splitlines())
    assert '"value": ["glance-direct", "web-download"]' in cells  # glanceclient wraps the table cell across lines
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(b"x" * 1000)
    created = glance(
        target, target.token, "image-create-via-import", "--disk-format", "raw", "--container-format", "bare",
        "--file", str(image_file), tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    image_id = target.track(image_id_from(created.stdout))
    target.wait_for_status(image_id, {"active"})
    # the image's tasks are served, but /versions lists the tasks API (v2.12) only with several stores, as
    # single-store Glance 33 does: glanceclient then refuses `image-tasks` itself, as it does against Glance
    status, _, body = target.request("GET", f"/v2/images/{image_id}/tasks")
    assert status == 200 and [task["status"] for task in body["tasks"]] == ["success"]
    tasks = glance(target, target.token, "image-tasks", image_id, tmp_path=tmp_path)
    assert tasks.returncode == 1 and "does not support image tasks API (v2.12)" in tasks.stderr


def test_glanceclient_shows_glances_error_for_an_unknown_image(target, tmp_path):
    result = glance(target, target.token, "image-show", "00000000-0000-0000-0000-000000000000", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "No image found with ID" in result.stderr

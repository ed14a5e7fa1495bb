"""End to end with python-glanceclient: web-download from a server on 127.0.0.1, then image-download."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.e2e import allow_web_downloads_from_loopback, glance, image_id_from

pytestmark = pytest.mark.e2e


@pytest.fixture
def service_config(config_dir, web_root):
    return allow_web_downloads_from_loopback(config_dir, web_root, max_api_download_size=50_000)  # larger: 303


def test_given_glanceclient_when_it_imports_by_web_download_and_downloads_then_the_bytes_round_trip(
    service, web_root, web_data, tmp_path
):
    created = glance(
        service, "member-token", "image-create-via-import", "--disk-format", "raw", "--container-format", "bare",
        "--import-method", "web-download", "--uri", f"http://127.0.0.1:{web_root}/disk.img", tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    image = service.wait_for_status(image_id_from(created.stdout), {"active", "queued"})
    assert image["status"] == "active"
    assert image["os_hash_value"] == hashlib.sha512(web_data).hexdigest()

    target = tmp_path / "copy.img"
    downloaded = glance(
        service, "member-token", "image-download", image["id"], "--file", str(target), tmp_path=tmp_path
    )
    assert downloaded.returncode == 0, downloaded.stderr  # via the 303 to the store, hash checked by glanceclient
    assert target.read_bytes() == web_data


def test_given_glanceclient_when_the_uri_points_at_the_metadata_service_then_the_import_is_refused(service, tmp_path):
    created = glance(
        service, "member-token", "image-create-via-import", "--disk-format", "raw", "--container-format", "bare",
        "--import-method", "web-download", "--uri", "http://169.254.169.254/latest/meta-data/", tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode != 0
    assert "does not pass filtering" in created.stderr

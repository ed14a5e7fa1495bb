"""The local end-to-end scenario, against the deployed API."""

from __future__ import annotations

import hashlib
import os


def test_versions_are_open(api):
    api.token = ""
    status, _, body = api.call("GET", "/versions")
    assert status == 200 and body["versions"]


def test_a_glance_direct_import_ends_active_with_the_datas_hashes(api):
    data = os.urandom(1024 * 1024)
    status, _, image = api.call(
        "POST", "/v2/images", {"name": "aws-e2e", "disk_format": "raw", "container_format": "bare"}
    )
    assert status == 201, image
    try:
        status, _, _ = api.call(
            "PUT", f"/v2/images/{image['id']}/stage", data, {"Content-Type": "application/octet-stream"}
        )
        assert status == 204
        status, _, _ = api.call("POST", f"/v2/images/{image['id']}/import", {"method": {"name": "glance-direct"}})
        assert status == 202
        done = api.wait_for(image["id"], {"active", "uploading", "queued"})
        assert done["status"] == "active", done
        assert done["checksum"] == hashlib.md5(data).hexdigest()
        assert done["os_hash_value"] == hashlib.sha512(data).hexdigest()
    finally:
        api.call("DELETE", f"/v2/images/{image['id']}")


def test_a_direct_upload_to_s3_starts_the_import_by_itself(api):
    data = os.urandom(2 * 1024 * 1024)
    status, _, image = api.call(
        "POST", "/v2/images", {"name": "aws-direct", "disk_format": "raw", "container_format": "bare"}
    )
    assert status == 201, image
    try:
        status, _, offer = api.call(
            "POST", f"/v2/images/{image['id']}/upload-urls", {"size": len(data), "import": True}
        )
        assert status == 200, offer
        import urllib.request

        put = urllib.request.Request(offer["url"], data=data, method="PUT")
        with urllib.request.urlopen(put, timeout=120) as response:
            assert response.status == 200
        done = api.wait_for(image["id"], {"active"})
        assert done["status"] == "active", done
        assert done["checksum"] == hashlib.md5(data).hexdigest()
    finally:
        api.call("DELETE", f"/v2/images/{image['id']}")

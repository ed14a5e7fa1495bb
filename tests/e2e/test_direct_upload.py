"""End to end, every target: bytes PUT straight to presigned S3 URLs; the S3 event imports them.

Locally the URLs point at the in-process S3 (moto server) and its event reaches the local pollers; on a
deployed stack they point at the staging bucket and S3 -> SQS -> Lambda starts the import.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request

import pytest

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def http_put(url: str, data: bytes) -> int:
    """A plain HTTP PUT, as curl -T would send it (no AWS SDK involved)."""
    # urllib would send a form content type, which moto tries to parse as a form
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status


def assert_imported(target, image_id: str, data: bytes) -> None:
    image = target.wait_for_status(image_id, {"active"})
    assert image["status"] == "active", image
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_given_import_asked_when_the_bytes_are_put_to_the_presigned_url_then_the_image_ends_active(target):
    data = os.urandom(3 * MiB + 7)
    image_id = target.create_image(name="e2e-direct-upload")
    status, _, offer = target.request(
        "POST", f"/v2/images/{image_id}/upload-urls", body={"size": len(data), "import": True}
    )
    assert status == 200, offer
    # locally the in-process S3 (moto server); deployed, the staging bucket over TLS
    assert offer["url"].startswith("http://127.0.0.1:" if target.local else "https://")
    assert http_put(offer["url"], data) == 200
    assert_imported(target, image_id, data)  # no call to /import


def test_given_a_multipart_upload_when_its_parts_are_put_and_completed_then_the_image_ends_active(target):
    data = os.urandom(9 * MiB)
    image_id = target.create_image(name="e2e-multipart-upload")
    status, _, offer = target.request(
        "POST", f"/v2/images/{image_id}/upload-urls", body={"size": len(data), "import": True, "multipart": True}
    )
    assert status == 200, offer
    multipart = offer["multipart"]
    size = multipart["part_size"]
    for part in multipart["parts"]:
        start = (part["part_number"] - 1) * size
        assert http_put(part["url"], data[start : start + size]) == 200
    status, _, _ = target.request(
        "POST", f"/v2/images/{image_id}/upload-complete", body={"upload_id": multipart["upload_id"]}
    )
    assert status == 202
    assert_imported(target, image_id, data)

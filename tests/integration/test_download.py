"""GET /v2/images/{id}/file: Glance's answers, through the API or by redirect to S3."""

from __future__ import annotations

import base64
import hashlib
import os

import boto3
import pytest

from tests.support.config import set_option
from tests.support.stack_state import wait_for_executions

DATA = os.urandom(3000)


@pytest.fixture
def stack_config(config_dir):
    set_option(config_dir, "glance-api.conf", "DEFAULT", "max_api_download_size", "2000")
    return config_dir


@pytest.fixture
def active(member, stack) -> dict:
    image = member.create()
    assert member.stage(image["id"], DATA).status == 204
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)
    shown = member.show(image["id"])
    assert shown["status"] == "active"
    return shown


def get_file(api, image_id: str, **headers):
    """(status, headers, body bytes) of a download."""
    result = api.stack.invoke_api(
        "GET",
        f"/v2/images/{image_id}/file",
        headers={"Host": "127.0.0.1:9292", "X-Auth-Token": api.token, **headers},
    )
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        response_headers.setdefault(key.lower(), values[-1])
    return result["statusCode"], response_headers, data


@pytest.mark.parametrize(
    "range_header, first, last",
    [("bytes=0-99", 0, 99), ("bytes=2900-", 2900, 2999), ("bytes=-10", 2990, 2999), ("bytes=2990-5000", 2990, 2999)],
)
def test_given_an_active_image_when_a_single_range_is_requested_then_it_is_206_with_those_bytes(
    member, active, range_header, first, last
):
    status, headers, body = get_file(member, active["id"], Range=range_header)
    assert status == 206
    assert body == DATA[first : last + 1]
    assert headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert headers["content-length"] == str(last - first + 1)


def test_given_an_old_client_when_it_sends_content_range_then_it_gets_that_part(member, active):
    status, headers, body = get_file(member, active["id"], **{"Content-Range": "bytes 10-19/3000"})
    assert status == 206 and body == DATA[10:20]


@pytest.mark.parametrize("range_header", ["bytes=3000-", "bytes=5-2", "bytes=-0", "bytes=abc", "items=0-1"])
def test_given_an_unsatisfiable_range_when_requested_then_it_is_416(member, active, range_header):
    status, headers, _ = get_file(member, active["id"], Range=range_header)
    assert status == 416
    assert headers["content-range"] == f"bytes */{len(DATA)}"


def test_given_several_ranges_when_requested_then_it_is_400(member, active):
    status, _, _ = get_file(member, active["id"], Range="bytes=0-1,5-6")
    assert status == 400


def test_given_an_image_over_the_api_limit_when_downloaded_then_it_redirects_to_a_presigned_store_url(
    member, stack, active
):
    status, headers, body = get_file(member, active["id"])
    assert status == 303 and body == b""
    location = headers["location"]
    assert f"images/{active['id']}" in location and "Signature" in location
    # the URL is what S3 would serve: the very object behind the image
    stored = boto3.client("s3").get_object(Bucket=stack.physical_name("StoreBucket"), Key=f"images/{active['id']}")
    assert hashlib.md5(stored["Body"].read()).hexdigest() == active["checksum"]


def test_given_a_small_image_when_downloaded_then_it_is_200_with_length_and_content_md5(member, stack):
    image = member.create()
    member.stage(image["id"], b"small image")
    member.import_(image["id"])
    wait_for_executions(stack)
    status, headers, body = get_file(member, image["id"])
    assert status == 200 and body == b"small image"
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-length"] == str(len(b"small image"))
    assert headers["content-md5"] == hashlib.md5(b"small image").hexdigest()


def test_given_an_image_without_data_when_downloaded_then_it_is_204(member):
    image = member.create()
    status, _, body = get_file(member, image["id"])
    assert status == 204 and body == b""


def test_given_another_projects_private_image_when_downloaded_then_it_is_404(member, admin):
    image = admin.create(visibility="private")
    status, _, _ = get_file(member, image["id"])
    assert status == 404


def test_given_an_unknown_image_when_downloaded_then_it_is_404(member):
    status, _, _ = get_file(member, "00000000-0000-0000-0000-000000000000")
    assert status == 404


@pytest.mark.parametrize("request_headers", [{"Range": "bytes=2-5"}, {"Content-Range": "bytes 2-5/3000"}])
def test_a_range_carries_the_whole_images_content_md5_as_a_download_does(member, active, request_headers):
    status, headers, _ = get_file(member, active["id"], **request_headers)
    assert status == 206
    assert headers["content-md5"] == hashlib.md5(DATA).hexdigest() == active["checksum"]

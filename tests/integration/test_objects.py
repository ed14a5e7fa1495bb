"""S3 adapter under moto: multipart writes assemble correctly and leave nothing behind on failure."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from image_import.adapters import aws
from image_import.adapters.objects import CHUNK_SIZE, Bucket


@pytest.fixture
def bucket(aws_env):
    with mock_aws():
        aws.reset_clients()
        boto3.client("s3").create_bucket(Bucket="bucket-under-test")
        yield Bucket("bucket-under-test")
        aws.reset_clients()


def uploads_in_progress() -> list:
    return boto3.client("s3").list_multipart_uploads(Bucket="bucket-under-test").get("Uploads", [])


def test_a_multipart_write_of_odd_sized_chunks_reassembles_the_bytes(bucket):
    chunks = [os.urandom(CHUNK_SIZE), os.urandom(3 * 1024 * 1024 + 5), os.urandom(CHUNK_SIZE + 7), os.urandom(11)]
    size = bucket.write("k", iter(chunks), part_size=CHUNK_SIZE)
    assert size == sum(map(len, chunks))
    assert b"".join(bucket.chunks("k")) == b"".join(chunks)
    assert uploads_in_progress() == []


def test_a_small_object_is_one_put(bucket):
    assert bucket.write("k", [b"ab", b"c"], part_size=CHUNK_SIZE) == 3
    assert bucket.size("k") == 3


def test_a_failing_source_aborts_the_upload_and_leaves_no_object(bucket):
    def source():
        yield os.urandom(CHUNK_SIZE)
        yield os.urandom(CHUNK_SIZE)
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        bucket.write("k", source(), part_size=CHUNK_SIZE)
    assert bucket.size("k") is None
    assert uploads_in_progress() == []


def test_size_of_a_missing_object_is_none(bucket):
    assert bucket.size("nothing") is None


def test_a_multipart_upload_completes_with_the_parts_s3_holds_in_order(bucket):
    import requests

    upload_id = bucket.start_multipart("uploads/k")
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    for number in (2, 1):  # parts may arrive in any order
        url = bucket.presigned_part("uploads/k", upload_id, number, 60, len(parts[number - 1]))
        assert requests.put(url, data=parts[number - 1], timeout=30).status_code == 200
    assert bucket.complete_multipart("uploads/k", upload_id) is True
    assert b"".join(bucket.chunks("uploads/k")) == b"".join(parts)


def test_completing_an_unknown_or_empty_upload_reports_false_and_aborting_twice_is_harmless(bucket):
    assert bucket.complete_multipart("uploads/k", "no-such-upload") is False
    upload_id = bucket.start_multipart("uploads/k")
    assert bucket.complete_multipart("uploads/k", upload_id) is False  # no parts yet
    bucket.abort_multipart("uploads/k", upload_id)
    bucket.abort_multipart("uploads/k", upload_id)
    assert uploads_in_progress() == []


def test_presigned_urls_are_sigv4(bucket):
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in bucket.presigned_put("uploads/k", 60, 3)


# ---------------------------------------------------------------- pinned server-side copies
def copy_requests(monkeypatch) -> list[tuple[str, dict]]:
    """(operation, headers) of every CopyObject / UploadPartCopy the adapter sends (moto does not check the pin)."""
    seen: list[tuple[str, dict]] = []

    def record(request, event_name, **_):
        seen.append((event_name.rsplit(".", 1)[-1], dict(request.headers)))

    s3 = aws.client("s3")
    for operation in ("CopyObject", "UploadPartCopy"):
        s3.meta.events.register(f"before-send.s3.{operation}", record)
    return seen


def test_head_gives_size_and_the_etag_without_quotes(bucket):
    boto3.client("s3").put_object(Bucket="bucket-under-test", Key="k", Body=b"abc")
    assert bucket.head("k") == (3, "900150983cd24fb0d6963f7d28e17f72")  # md5("abc")
    assert bucket.head("nothing") is None


def test_a_copy_is_pinned_on_the_etag_it_was_given(bucket, monkeypatch):
    boto3.client("s3").put_object(Bucket="bucket-under-test", Key="uploads/k", Body=b"abc")
    size, etag = bucket.head("uploads/k")
    sent = copy_requests(monkeypatch)
    assert bucket.copy("uploads/k", "staging/k", etag, size, part_size=CHUNK_SIZE) is True
    assert b"".join(bucket.chunks("staging/k")) == b"abc"
    [(operation, headers)] = sent
    assert operation == "CopyObject" and headers["x-amz-copy-source-if-match"] == f'"{etag}"'.encode()


def test_a_large_copy_is_parts_each_pinned_on_the_etag(bucket, monkeypatch):
    data = os.urandom(11 * 1024 * 1024)
    bucket.write("uploads/k", [data], part_size=CHUNK_SIZE)
    size, etag = bucket.head("uploads/k")
    sent = copy_requests(monkeypatch)
    assert bucket.copy("uploads/k", "staging/k", etag, size, part_size=5 * 1024 * 1024) is True  # 3 parts of 11 MiB
    assert b"".join(bucket.chunks("staging/k")) == data
    assert [op for op, _ in sent] == ["UploadPartCopy"] * 3
    assert {headers["x-amz-copy-source-if-match"] for _, headers in sent} == {f'"{etag}"'.encode()}
    assert uploads_in_progress() == []


def test_a_copy_of_an_object_that_is_gone_is_refused_and_writes_nothing(bucket):
    assert bucket.copy("uploads/k", "staging/k", "0" * 32, 3, part_size=CHUNK_SIZE) is False
    assert bucket.size("staging/k") is None


def test_a_presigned_put_signs_its_content_length(bucket):
    # S3 then refuses a PUT of any other length (moto does not check signatures: what is signed is checked here)
    url = bucket.presigned_put("uploads/k", 900, 5)
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in url and "X-Amz-Expires=900" in url

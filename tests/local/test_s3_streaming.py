"""s3_streaming: moto's S3 operations of the import path, streamed, against a real moto server over HTTP."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from image_import_dev.local import s3_streaming

MIB = 1024 * 1024
PART = 5 * MIB  # S3's minimum part size (all parts but the last)


@pytest.fixture(scope="module")
def s3() -> Iterator[object]:
    """A client of a moto server (a thread of this process) with the override installed."""
    from moto.server import ThreadedMotoServer

    was_installed = s3_streaming.installed()
    s3_streaming.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=20, retries={"max_attempts": 1}),
    )
    client.create_bucket(Bucket="bkt")
    try:
        yield client
    finally:
        server.stop()
        if not was_installed:
            s3_streaming.uninstall()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def multipart(s3, key: str, parts: list[bytes]) -> tuple[str, list[dict]]:
    upload = s3.create_multipart_upload(Bucket="bkt", Key=key)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(Bucket="bkt", Key=key, UploadId=upload, PartNumber=number, Body=data)["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    return upload, done


def error(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------------------- CompleteMultipartUpload
def test_given_parts_when_completed_then_the_object_is_their_bytes_with_s3s_multipart_etag(s3):
    parts = [os.urandom(PART), os.urandom(PART + 1), os.urandom(1000)]
    upload, done = multipart(s3, "joined", parts)

    answer = s3.complete_multipart_upload(Bucket="bkt", Key="joined", UploadId=upload, MultipartUpload={"Parts": done})

    expected_etag = f'"{md5(b"".join(bytes.fromhex(md5(p)) for p in parts))}-3"'
    assert answer["ETag"] == expected_etag
    got = s3.get_object(Bucket="bkt", Key="joined")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == expected_etag
    assert s3.head_object(Bucket="bkt", Key="joined")["ContentLength"] == sum(map(len, parts))


def test_given_a_small_part_before_the_last_when_completed_then_entity_too_small(s3):
    upload, done = multipart(s3, "small", [b"x" * 100, b"y" * 100])

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket="bkt", Key="small", UploadId=upload, MultipartUpload={"Parts": done})

    assert error(excinfo)[0] == "EntityTooSmall"


def test_given_a_wrong_etag_after_a_small_part_when_completed_then_invalid_part_first_as_moto_checks(s3):
    upload, done = multipart(s3, "wrong", [b"x" * 100, b"y" * 100])
    done[1]["ETag"] = '"' + "0" * 32 + '"'

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket="bkt", Key="wrong", UploadId=upload, MultipartUpload={"Parts": done})

    assert error(excinfo)[0] == "InvalidPart"


def test_given_one_empty_part_when_completed_then_an_empty_object(s3):
    upload, done = multipart(s3, "empty-multipart", [b""])

    s3.complete_multipart_upload(Bucket="bkt", Key="empty-multipart", UploadId=upload, MultipartUpload={"Parts": done})

    assert s3.get_object(Bucket="bkt", Key="empty-multipart")["Body"].read() == b""


@pytest.mark.parametrize(
    "algorithm,checksum_type",
    [
        (None, None),
        ("CRC32", "COMPOSITE"),
        ("CRC32", "FULL_OBJECT"),
        ("SHA256", None),
        ("SHA1", None),
        ("CRC32C", None),
    ],
)
def test_given_parts_when_checksummed_in_chunks_then_the_checksum_is_motos_over_whole_parts(algorithm, checksum_type):
    from moto.s3.models import MultipartChecksumBuilder

    parts = [os.urandom(3 * s3_streaming.CHUNK_SIZE + 17), os.urandom(5), b""]
    expected = MultipartChecksumBuilder(algorithm, checksum_type)
    streamed = s3_streaming.StreamingChecksum(algorithm, checksum_type)
    for part in parts:
        expected.addPart(part)
        for first in range(0, len(part), s3_streaming.CHUNK_SIZE):
            streamed.update(part[first : first + s3_streaming.CHUNK_SIZE])
        streamed.end_part()

    assert streamed.build() == expected.build()


# ---------------------------------------------------------------------------- UploadPartCopy, CopyObject
@pytest.fixture(scope="module")
def source(s3) -> tuple[bytes, str]:
    data = os.urandom(2 * PART + 123)
    etag = s3.put_object(Bucket="bkt", Key="source", Body=data)["ETag"]
    return data, etag


@pytest.mark.parametrize(
    "first,last", [(0, 0), (0, PART - 1), (PART, 2 * PART + 122), (2 * PART + 122, 2 * PART + 122), (7, 2 * PART)]
)
def test_given_a_range_when_copied_as_a_part_then_the_part_is_that_range(s3, source, first, last):
    data, etag = source
    upload = s3.create_multipart_upload(Bucket="bkt", Key="copied")["UploadId"]

    answer = s3.upload_part_copy(
        Bucket="bkt",
        Key="copied",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": "bkt", "Key": "source"},
        CopySourceRange=f"bytes={first}-{last}",
        CopySourceIfMatch=etag,
    )

    assert answer["CopyPartResult"]["ETag"] == f'"{md5(data[first : last + 1])}"'
    parts = [{"PartNumber": 1, "ETag": answer["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket="bkt", Key="copied", UploadId=upload, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket="bkt", Key="copied")["Body"].read() == data[first : last + 1]


def test_given_ranges_in_order_when_copied_then_completed_object_is_the_source(s3, source):
    data, etag = source
    upload = s3.create_multipart_upload(Bucket="bkt", Key="whole-copy")["UploadId"]
    ranges = [(0, PART - 1), (PART, 2 * PART - 1), (2 * PART, len(data) - 1)]
    parts = []
    for number, (first, last) in enumerate(ranges, start=1):
        answer = s3.upload_part_copy(
            Bucket="bkt",
            Key="whole-copy",
            UploadId=upload,
            PartNumber=number,
            CopySource={"Bucket": "bkt", "Key": "source"},
            CopySourceRange=f"bytes={first}-{last}",
            CopySourceIfMatch=etag,
        )
        parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
    listed = s3.list_parts(Bucket="bkt", Key="whole-copy", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (p["PartNumber"], p["ETag"], last - first + 1) for p, (first, last) in zip(parts, ranges, strict=True)
    ]

    s3.complete_multipart_upload(Bucket="bkt", Key="whole-copy", UploadId=upload, MultipartUpload={"Parts": parts})

    assert s3.get_object(Bucket="bkt", Key="whole-copy")["Body"].read() == data


def test_given_another_etag_when_a_part_is_copied_then_412_precondition_failed(s3, source):
    upload = s3.create_multipart_upload(Bucket="bkt", Key="pinned")["UploadId"]

    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(
            Bucket="bkt",
            Key="pinned",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": "bkt", "Key": "source"},
            CopySourceRange="bytes=0-99",
            CopySourceIfMatch='"' + "0" * 32 + '"',
        )

    assert error(excinfo) == ("PreconditionFailed", 412)
    assert s3.list_parts(Bucket="bkt", Key="pinned", UploadId=upload).get("Parts", []) == []


def test_given_its_etag_when_none_match_on_a_part_copy_then_412(s3, source):
    upload = s3.create_multipart_upload(Bucket="bkt", Key="pinned-none")["UploadId"]

    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(
            Bucket="bkt",
            Key="pinned-none",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": "bkt", "Key": "source"},
            CopySourceRange="bytes=0-99",
            CopySourceIfNoneMatch=source[1],
        )

    assert error(excinfo) == ("PreconditionFailed", 412)


def test_given_its_etag_when_copy_object_then_the_same_bytes_and_etag(s3, source):
    data, etag = source

    s3.copy_object(Bucket="bkt", Key="copy", CopySource={"Bucket": "bkt", "Key": "source"}, CopySourceIfMatch=etag)

    got = s3.get_object(Bucket="bkt", Key="copy")
    assert got["Body"].read() == data
    assert got["ETag"] == etag


def test_given_another_etag_when_copy_object_then_412_and_nothing_copied(s3, source):
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket="bkt", Key="not-copied", CopySource={"Bucket": "bkt", "Key": "source"}, CopySourceIfMatch='"abc"'
        )

    assert error(excinfo) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="bkt", Key="not-copied")


# ---------------------------------------------------------------------------- GetObject
@pytest.mark.parametrize(
    "header,expected",
    [
        ("bytes=0-0", slice(0, 1)),
        ("bytes=0-", slice(0, None)),
        (f"bytes={2 * PART + 122}-", slice(2 * PART + 122, None)),
        (f"bytes={PART - 1}-{PART}", slice(PART - 1, PART + 1)),
        ("bytes=-10", slice(-10, None)),
        ("bytes=10-99999999999", slice(10, None)),
    ],
)
def test_given_a_range_with_if_match_when_get_object_then_206_with_those_bytes(s3, source, header, expected):
    data, etag = source

    got = s3.get_object(Bucket="bkt", Key="source", Range=header, IfMatch=etag)

    body = data[expected]
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body)
    first = expected.start % len(data)
    assert got["ContentRange"] == f"bytes {first}-{first + len(body) - 1}/{len(data)}"


def test_given_a_range_past_the_end_when_get_object_then_invalid_range(s3, source):
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="source", Range=f"bytes={len(source[0])}-")

    assert error(excinfo) == ("InvalidRange", 416)


def test_given_another_etag_when_get_object_with_if_match_then_412(s3, source):
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="source", Range="bytes=0-9", IfMatch='"' + "1" * 32 + '"')

    assert error(excinfo) == ("PreconditionFailed", 412)


def test_given_objects_when_got_whole_then_their_bytes(s3, source):
    s3.put_object(Bucket="bkt", Key="empty", Body=b"")
    s3.put_object(Bucket="bkt", Key="tiny", Body=b"abc")

    assert s3.get_object(Bucket="bkt", Key="source")["Body"].read() == source[0]
    assert s3.get_object(Bucket="bkt", Key="empty")["Body"].read() == b""
    assert s3.get_object(Bucket="bkt", Key="tiny", Range="bytes=1-")["Body"].read() == b"bc"
    head = s3.head_object(Bucket="bkt", Key="source")
    assert (head["ContentLength"], head["ETag"]) == (len(source[0]), source[1])


def test_given_an_object_when_deleted_then_it_is_gone(s3):
    s3.put_object(Bucket="bkt", Key="doomed", Body=os.urandom(PART + 1))

    s3.delete_object(Bucket="bkt", Key="doomed")

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="bkt", Key="doomed")
    assert error(excinfo)[0] == "NoSuchKey"


def test_given_key_values_outside_the_streamed_operations_then_moto_still_gives_bytes():
    from moto.s3.models import FakeKey

    key = FakeKey("k", b"x" * (PART + 3), account_id="123456789012", region_name="us-east-1")

    assert key.value == b"x" * (PART + 3)
    assert bytes(s3_streaming.KeyBody(key)[PART:]) == b"xxx"


# ---------------------------------------------------------------------------- memory
def test_given_a_large_object_when_completed_copied_and_read_then_memory_stays_bounded(s3):
    """Without the override each of these steps allocates the whole object (or more) at once."""
    size_parts, part = 24, 8 * MIB  # 192 MiB
    chunk = os.urandom(part)
    upload, done = multipart(s3, "large", [chunk] * size_parts)
    size = size_parts * part

    tracemalloc.start()
    try:
        s3.complete_multipart_upload(Bucket="bkt", Key="large", UploadId=upload, MultipartUpload={"Parts": done})
        etag = s3.head_object(Bucket="bkt", Key="large")["ETag"]
        copy = s3.create_multipart_upload(Bucket="bkt", Key="large-copy")["UploadId"]
        half = size // 2
        parts = []
        for number, (first, last) in enumerate([(0, half - 1), (half, size - 1)], start=1):
            answer = s3.upload_part_copy(
                Bucket="bkt",
                Key="large-copy",
                UploadId=copy,
                PartNumber=number,
                CopySource={"Bucket": "bkt", "Key": "large"},
                CopySourceRange=f"bytes={first}-{last}",
                CopySourceIfMatch=etag,
            )
            parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
        s3.complete_multipart_upload(Bucket="bkt", Key="large-copy", UploadId=copy, MultipartUpload={"Parts": parts})
        body = s3.get_object(Bucket="bkt", Key="large-copy")["Body"]
        read = hashlib.md5()
        for piece in body.iter_chunks(MIB):
            read.update(piece)
        ranged = s3.get_object(Bucket="bkt", Key="large", Range=f"bytes={part}-{size - 1}", IfMatch=etag)["Body"]
        ranged_size = sum(len(piece) for piece in ranged.iter_chunks(MIB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert read.hexdigest() == hashlib.md5(chunk * size_parts).hexdigest()
    assert ranged_size == size - part
    assert peak < 32 * MIB, f"peak {peak / MIB:.0f} MiB while moving {size // MIB} MiB"


def put(url: str, data: bytes) -> None:
    import urllib.request

    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def test_given_parts_put_to_presigned_urls_when_answered_then_their_bodies_are_freed_and_read_once(s3):
    """Read 64 KiB at a time into a growing bytearray then copied, and read back for its MD5, a body peaked
    at 4x its size; and
    the answered requests' bodies stayed alive, in reference cycles, until the cyclic GC ran."""
    import gc

    upload = s3.create_multipart_upload(Bucket="bkt", Key="presigned")["UploadId"]
    part = os.urandom(8 * MIB)
    urls = [
        s3.generate_presigned_url(
            "upload_part", Params={"Bucket": "bkt", "Key": "presigned", "UploadId": upload, "PartNumber": n}
        )
        for n in range(1, 9)
    ]
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for url in urls:
            put(url, part)
        left, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()

    assert [p["ETag"] for p in s3.list_parts(Bucket="bkt", Key="presigned", UploadId=upload)["Parts"]] == [
        f'"{md5(part)}"'
    ] * 8
    assert left < 4 * MIB, f"{left / MIB:.0f} MiB still allocated after 8 parts of 8 MiB"
    # the traced peak also holds the client's side of the PUT (same process): 2x is the floor, 4x the bug
    assert peak < 3 * 8 * MIB, f"peak {peak / MIB:.0f} MiB for one 8 MiB part"


@pytest.fixture
def installed() -> Iterator[None]:
    was_installed = s3_streaming.installed()
    s3_streaming.install()
    yield
    if not was_installed:
        s3_streaming.uninstall()


def test_given_the_override_installed_when_mock_aws_serves_s3_then_it_still_works(installed, moto):
    """mock_aws answers in-process, not through the HTTP server: a test after the local stack's in the
    same process gets bytes, copies, completions and 412s as over HTTP."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="mocked")
    data = os.urandom(PART + 10)
    etag = s3.put_object(Bucket="mocked", Key="k", Body=data)["ETag"]
    upload = s3.create_multipart_upload(Bucket="mocked", Key="m")["UploadId"]
    copied = s3.upload_part_copy(
        Bucket="mocked",
        Key="m",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": "mocked", "Key": "k"},
        CopySourceRange=f"bytes=5-{PART + 4}",
        CopySourceIfMatch=etag,
    )["CopyPartResult"]["ETag"]
    tail = s3.upload_part(Bucket="mocked", Key="m", UploadId=upload, PartNumber=2, Body=b"tail")["ETag"]
    parts = [{"PartNumber": 1, "ETag": copied}, {"PartNumber": 2, "ETag": tail}]
    s3.complete_multipart_upload(Bucket="mocked", Key="m", UploadId=upload, MultipartUpload={"Parts": parts})

    assert s3.get_object(Bucket="mocked", Key="k")["Body"].read() == data
    assert s3.get_object(Bucket="mocked", Key="k", Range="bytes=3-9", IfMatch=etag)["Body"].read() == data[3:10]
    assert s3.get_object(Bucket="mocked", Key="m")["Body"].read() == data[5 : PART + 5] + b"tail"
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket="mocked", Key="c", CopySource={"Bucket": "mocked", "Key": "k"}, CopySourceIfMatch='"x"')
    assert error(excinfo)[0] == "PreconditionFailed"


def test_given_a_stream_that_returns_pieces_when_a_body_is_read_then_all_of_it(installed):
    import io

    from werkzeug.exceptions import ClientDisconnected
    from werkzeug.wsgi import LimitedStream

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes):
            self.data = data

        def read(self, size: int = -1) -> bytes:
            piece, self.data = self.data[: min(size, 1000)], self.data[min(size, 1000) :]
            return piece

    assert LimitedStream(Trickle(b"x" * 5000), 4500).read() == b"x" * 4500
    with pytest.raises(ClientDisconnected):
        LimitedStream(Trickle(b"x" * 3000), 4500).read()

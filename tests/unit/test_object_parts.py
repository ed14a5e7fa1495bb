"""The object adapter takes its part sizes from the one rule (transfer/parts.py) and signs every request of
a bucket, its multipart writes included, in that bucket's region."""

from __future__ import annotations

from typing import Any

from image_import.adapters import objects
from image_import.adapters.objects import Bucket
from image_import.transfer.parts import COPY_PART_SIZE, MIB, part_size_for


class StubS3:
    """Records every call; answers what a multipart write and a part copy need."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> dict[str, Any]:
            self.calls.append((operation, request))
            return {"UploadId": "u1", "ETag": '"e"', "CopyPartResult": {"ETag": '"e"'}}

        return call


def clients_by_region(monkeypatch) -> tuple[StubS3, list[str | None]]:
    s3, regions = StubS3(), []

    def client(service: str, region: str | None = None, credentials: Any = None) -> StubS3:
        regions.append(region)
        return s3

    monkeypatch.setattr(objects, "client", client)
    return s3, regions


def test_a_multipart_write_to_a_bucket_in_another_region_is_signed_in_that_region(monkeypatch):
    s3, regions = clients_by_region(monkeypatch)

    written = Bucket("far", region="eu-west-3").write("k", [b"x" * 5, b"y" * 5, b"z"], part_size=4)

    assert written == 11
    assert set(regions) == {"eu-west-3"}
    parts = [request["Body"] for operation, request in s3.calls if operation == "upload_part"]
    assert parts == [b"xxxx", b"xyyy", b"yyz"]


def test_a_multipart_write_sends_parts_of_the_size_it_was_given(monkeypatch):
    s3, _ = clients_by_region(monkeypatch)

    Bucket("b").write("k", [b"a" * 10], part_size=4)

    sizes = [len(request["Body"]) for operation, request in s3.calls if operation == "upload_part"]
    assert sizes == [4, 4, 2]


def test_a_copy_inside_a_bucket_is_in_parts_of_the_size_it_was_given(monkeypatch):
    s3, _ = clients_by_region(monkeypatch)

    assert Bucket("b").copy("a", "b", "etag", 10 * MIB, part_size=4 * MIB) is True

    ranges = [request["CopySourceRange"] for operation, request in s3.calls if operation == "upload_part_copy"]
    assert ranges == [f"bytes=0-{4 * MIB - 1}", f"bytes={4 * MIB}-{8 * MIB - 1}", f"bytes={8 * MIB}-{10 * MIB - 1}"]


def test_a_copy_of_one_part_is_one_copy_object(monkeypatch):
    s3, _ = clients_by_region(monkeypatch)

    Bucket("b").copy("a", "b", "etag", 4 * MIB, part_size=4 * MIB)

    assert [operation for operation, _ in s3.calls] == ["copy_object"]


def test_the_copy_rule_is_the_part_size_rule():
    assert part_size_for(3 * 1024**3, COPY_PART_SIZE) == COPY_PART_SIZE  # 3 GiB: 12 parts of 256 MiB
    huge = 5 * 1024**4  # 5 TiB: more than 10,000 parts of 256 MiB
    assert part_size_for(huge, COPY_PART_SIZE) * 10_000 >= huge and part_size_for(huge, COPY_PART_SIZE) % MIB == 0


def test_a_multipart_writer_signs_in_its_buckets_region(monkeypatch):
    s3, regions = clients_by_region(monkeypatch)

    with objects.MultipartWriter(Bucket("far", region="eu-west-3"), "k", 4) as writer:
        writer.write(b"x" * 9)
        writer.commit()

    assert regions and set(regions) == {"eu-west-3"}
    assert [request["Bucket"] for _, request in s3.calls] == ["far"] * len(s3.calls)

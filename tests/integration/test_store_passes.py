"""The store copy in passes, through the whole moto stack (state machine included).

``[image_import_opts] max_bytes_per_pass`` bounds what one ImportToStore call moves; the state
machine runs the state again until the copy is done, and a pass that breaks off is retried from the
offset the previous pass recorded.
"""

from __future__ import annotations

import hashlib
import os

import boto3
import pytest

from image_import.adapters.objects import Bucket
from tests.support.config import set_option
from tests.support.consistency import assert_consistent
from tests.support.workflow import import_and_wait, states_entered

MIB = 1024 * 1024


@pytest.fixture
def stack_large_requests():
    return True  # 100 MiB staged through the API (AWS refuses bodies over ~4.5 MB of image: the passes are the subject)


@pytest.fixture
def stack_config(config_dir):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "max_bytes_per_pass", str(8 * MIB))
    return config_dir


def stored(stack, image_id: str) -> bytes:
    bucket = stack.physical_name("StoreBucket")
    return boto3.client("s3").get_object(Bucket=bucket, Key=f"images/{image_id}")["Body"].read()


def test_with_8_mib_passes_a_100_mib_import_is_active_after_13_passes(member, stack):
    data = os.urandom(100 * MIB)
    image = import_and_wait(member, stack, data)
    assert image["status"] == "active"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert states_entered(stack).count("ImportToStore") == 13
    assert stored(stack, image["id"]) == data
    assert_consistent(stack)


class TestAPassThatBreaksOff:
    """Pass 3 of 5 loses its connection midway: the retry goes on from pass 2's offset."""

    @pytest.fixture
    def broken_pass(self, monkeypatch):
        real = Bucket.ranged_chunks
        reads: list[tuple[int, int]] = []

        def ranged_chunks(self, key, first, last, etag, chunk_size=8 * MIB):
            reads.append((first, last))
            if first == 2 * 8 * MIB and reads.count((first, last)) == 1:
                chunks = real(self, key, first, last, etag, chunk_size=MIB)
                yield next(chunks)  # a few bytes arrive, then the connection drops
                raise ConnectionResetError("connection reset by peer")
            yield from real(self, key, first, last, etag, chunk_size)

        monkeypatch.setattr(Bucket, "ranged_chunks", ranged_chunks)
        return reads

    def test_the_import_ends_active_with_the_right_digests_and_data(self, member, stack, broken_pass):
        data = os.urandom(40 * MIB)
        image = import_and_wait(member, stack, data)
        assert image["status"] == "active"
        assert image["checksum"] == hashlib.md5(data).hexdigest()
        assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
        assert stored(stack, image["id"]) == data
        # five passes, the third one retried in its state; only the broken pass's range was read twice
        assert states_entered(stack).count("ImportToStore") == 5
        hashed = [(first, last) for first, last in broken_pass if last - first + 1 > 2 * MIB]
        assert hashed.count((16 * MIB, 24 * MIB - 1)) == 2 and hashed.count((0, 8 * MIB - 1)) == 1
        read_twice = sum(last - first + 1 for first, last in hashed) - len(data)
        assert read_twice == 8 * MIB
        assert_consistent(stack)

"""One pass over the data yields size, MD5 and the multihash, with the size cap enforced."""

from __future__ import annotations

import hashlib
import os

import pytest

from image_import.data.transfer import ParallelHasher, hashed
from image_import.errors import ImportFailed


def test_parallel_hashing_gives_the_same_digests_as_hashlib():
    chunks = [os.urandom(100_000) for _ in range(7)] + [b""] + [os.urandom(3)]
    hasher = ParallelHasher("sha512")
    passed = list(hashed(chunks, hasher, size_cap=10**9))
    digests = hasher.finish()
    data = b"".join(chunks)
    assert b"".join(passed) == data
    assert digests.size == len(data)
    assert digests.checksum == hashlib.md5(data).hexdigest()
    assert digests.hash_algo == "sha512"
    assert digests.hash_value == hashlib.sha512(data).hexdigest()


def test_the_configured_hash_algorithm_is_used():
    hasher = ParallelHasher("sha256")
    list(hashed([b"abc"], hasher, size_cap=10))
    assert hasher.finish().hash_value == hashlib.sha256(b"abc").hexdigest()


def test_data_beyond_the_size_cap_fails_the_import():
    hasher = ParallelHasher("sha512")
    with pytest.raises(ImportFailed, match="size cap of 5 bytes"):
        list(hashed([b"abc", b"def"], hasher, size_cap=5))
    hasher.close()

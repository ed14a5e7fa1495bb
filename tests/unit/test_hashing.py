"""One pass over the data yields size, MD5 and the multihash, with the size cap enforced."""

from __future__ import annotations

import hashlib
import os

import pytest

from image_import.data.hashing import ParallelHasher, hashed
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


# ---- resumable: the state crosses a function call (a JSON document), the digests are hashlib's
RESUMABLE = ["md5", "sha1", "sha256", "sha512"]


@pytest.mark.parametrize("algorithm", RESUMABLE)
@pytest.mark.parametrize("backend", ["openssl", "rehashes"])
def test_a_hashing_resumed_from_its_saved_state_gives_hashlibs_digest(algorithm, backend, monkeypatch):
    import json

    from image_import.data import hashing

    if backend == "rehashes":
        monkeypatch.setattr(hashing, "_libcrypto", lambda: None)
    data = os.urandom(300_001)
    cuts = [0, 1, 127, 128, 129, 65_536, 200_000, len(data)]
    hasher = ParallelHasher(algorithm)
    for first, last in zip(cuts, cuts[1:], strict=False):
        hasher.update(data[first:last])
        snapshot = json.loads(json.dumps(hasher.snapshot()))  # what the state machine carries
        assert snapshot["md5"].startswith(f"{backend}:")
        hasher.close()
        hasher = ParallelHasher.resume(snapshot)
    digests = hasher.finish()
    assert digests.size == len(data)
    assert digests.checksum == hashlib.md5(data).hexdigest()
    assert digests.hash_value == hashlib.new(algorithm, data).hexdigest()


def test_the_saved_state_is_a_few_hundred_bytes():
    import json

    hasher = ParallelHasher("sha512")
    hasher.update(os.urandom(1_000_000))
    assert len(json.dumps(hasher.snapshot())) < 500
    hasher.close()


def test_reading_a_digest_does_not_end_the_hashing():
    from image_import.data.hashing import new_digest

    digest = new_digest("sha256")
    digest.update(b"abc")
    assert digest.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    digest.update(b"def")
    assert digest.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()


def test_a_corrupt_state_is_refused_not_resumed():
    import base64

    from image_import.data.hashing import StateError, new_digest, saved_state

    digest = new_digest("sha512")
    backend, _, encoded = saved_state(digest).partition(":")
    raw = bytearray(base64.b64decode(encoded))
    if backend == "openssl":
        raw[208:212] = (4096).to_bytes(4, "little")  # a byte count past the block buffer
    else:
        raw = raw[:5]
    for bad in (f"{backend}:{base64.b64encode(bytes(raw)).decode()}", f"{backend}:not base64!", "elsewhere:AAAA"):
        with pytest.raises(StateError):
            new_digest("sha512", bad)


def test_an_algorithm_no_backend_resumes_hashes_in_one_pass():
    from image_import.data.hashing import StateError, resumable

    hasher = ParallelHasher("sha3_512")
    assert not hasher.resumable and resumable("sha512")
    hasher.update(b"abc")
    with pytest.raises(StateError, match="cannot be resumed"):
        hasher.snapshot()
    assert hasher.finish().hash_value == hashlib.sha3_512(b"abc").hexdigest()

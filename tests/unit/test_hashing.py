"""One pass over the data yields size, MD5 and the multihash, with the size cap enforced."""

from __future__ import annotations

import gc
import hashlib
import os
import threading

import pytest

from image_import.errors import ImportFailed
from image_import.transfer import hashing
from image_import.transfer.hashing import ParallelHasher, hashed


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

    from image_import.transfer import hashing

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
    from image_import.transfer.hashing import new_digest

    digest = new_digest("sha256")
    digest.update(b"abc")
    assert digest.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    digest.update(b"def")
    assert digest.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()


def test_a_corrupt_state_is_refused_not_resumed():
    import base64

    from image_import.transfer.hashing import StateError, new_digest, saved_state

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
    from image_import.transfer.hashing import StateError, resumable

    hasher = ParallelHasher("sha3_512")
    assert not hasher.resumable and resumable("sha512")
    hasher.update(b"abc")
    with pytest.raises(StateError, match="cannot be resumed"):
        hasher.snapshot()
    assert hasher.finish().hash_value == hashlib.sha3_512(b"abc").hexdigest()


class _Gated:
    """A digest whose updates wait for a gate: a multihash much slower than MD5."""

    def __init__(self):
        self.gate, self.seen = threading.Event(), 0

    def update(self, data) -> None:
        self.gate.wait(10)
        self.seen += 1

    def hexdigest(self) -> str:
        return "gated"


def test_each_digest_runs_at_its_own_pace_not_chunk_by_chunk():
    slow = _Gated()
    hasher = ParallelHasher("sha512", multi=slow)
    fed = threading.Thread(target=lambda: [hasher.update(b"x" * 1024) for _ in range(hashing.HASH_QUEUE_DEPTH)])
    fed.start()
    fed.join(5)
    # the slow digest has not finished a chunk, yet every update returned and MD5 hashed all of them
    assert not fed.is_alive() and slow.seen == 0
    hasher._md5.drain()
    assert hasher._md5.digest.hexdigest() == hashlib.md5(b"x" * 1024 * hashing.HASH_QUEUE_DEPTH).hexdigest()
    slow.gate.set()
    assert hasher.finish().hash_value == "gated" and slow.seen == hashing.HASH_QUEUE_DEPTH


def test_chunks_waiting_for_a_digest_are_bounded():
    slow = _Gated()
    hasher = ParallelHasher("sha512", multi=slow)
    fed = threading.Thread(target=lambda: [hasher.update(b"x") for _ in range(hashing.HASH_QUEUE_DEPTH + 3)])
    fed.start()
    fed.join(0.5)
    assert fed.is_alive()  # the feeder waits: at most the queue's depth (and the one being hashed) is held
    slow.gate.set()
    fed.join(5)
    assert hasher.finish().size == hashing.HASH_QUEUE_DEPTH + 3


def test_a_hasher_dropped_unfinished_leaves_no_thread_behind():
    before = threading.active_count()
    hasher = ParallelHasher("sha512")
    hasher.update(b"data")
    threads = [hasher._md5._thread, hasher._multi._thread]
    del hasher
    gc.collect()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads) and threading.active_count() <= before


def test_a_failing_digest_fails_the_hashing():
    class Broken(_Gated):
        def update(self, data) -> None:
            raise ValueError("libcrypto said no")

    hasher = ParallelHasher("sha512", multi=Broken())
    hasher.update(b"x")
    with pytest.raises(ValueError, match="libcrypto said no"):
        hasher.finish()


def no_thread(*args, **kwargs):
    raise AssertionError("a thread was made for a hashing state")


@pytest.mark.parametrize("algorithm", ["sha512", "sha256", "sha3_256"])
def test_a_fresh_snapshot_is_a_new_hashers_and_made_without_a_thread(algorithm, monkeypatch):
    expected = ParallelHasher(algorithm).snapshot() if hashing.resumable(algorithm) else None
    monkeypatch.setattr(hashing.threading, "Thread", no_thread)
    made = hashing.fresh_snapshot(algorithm)
    monkeypatch.undo()
    assert made == expected


def test_the_first_pass_state_starts_a_hashing_that_resumes_to_hashlibs_digest(monkeypatch):
    from image_import.transfer import passes

    monkeypatch.setattr(hashing.threading, "Thread", no_thread)
    state = passes.start(10, '"etag"', 8 * 1024 * 1024, "sha512")
    monkeypatch.undo()
    hasher = ParallelHasher.resume(state.hashing)
    hasher.update(b"0123456789")
    assert hasher.finish().hash_value == hashlib.sha512(b"0123456789").hexdigest()
    assert passes.start(10, '"etag"', 8 * 1024 * 1024, None).hashing is None  # digests known: nothing to hash

"""One pass of the store copy at a time, over the in-memory buckets: bounded, resumable, pinned."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from image_import.errors import ImportFailed, PassInterrupted
from image_import.models.job import CopyState
from image_import.transfer import passes
from image_import.transfer.hashing import ParallelHasher
from tests.support.fakes import FakeBucket

MIB = 1024 * 1024


def staged(data: bytes) -> tuple[FakeBucket, FakeBucket, CopyState]:
    staging, store = FakeBucket("staging"), FakeBucket("store")
    staging.put("staging/x", data)
    return staging, store, None


def copy_all(data: bytes, max_bytes: int, algorithm: str = "sha512", clock=None, deadline=float("inf")):
    """Run passes as the state machine does (the state through JSON between them); the states seen."""
    staging, store, _ = staged(data)
    state = passes.start(len(data), staging.etag("staging/x"), max_bytes, algorithm)
    states = []
    while not state.done:
        state = CopyState.model_validate(json.loads(state.model_dump_json()))
        hasher = ParallelHasher.resume(state.hashing) if state.hashing else ParallelHasher(algorithm)
        copier = passes.CopyPass(
            staging, "staging/x", store, "images/x", hasher=hasher, **({"clock": clock} if clock else {})
        )
        state = copier.run(state, passes.pass_bytes(state, max_bytes, hasher), deadline)
        states.append(state)
        if state.done:
            return store, states, hasher.finish()
        hasher.close()
    raise AssertionError("never done")


def test_parts_are_whole_mib_within_s3s_limits():
    from image_import.transfer import parts

    assert parts.part_size_for(100 * MIB, 8 * MIB) == 8 * MIB
    assert parts.part_size_for(100 * MIB, 5 * MIB) == 8 * MIB  # S3's minimum, with margin
    assert parts.part_size_for(1024**4, 16 * 1024**3) == 512 * MIB  # 1 TiB: 2,048 parts
    assert parts.part_size_for(8 * 1024**4, 8 * MIB) >= 8 * 1024**4 // parts.MAX_PARTS
    assert parts.part_size_for(8 * 1024**4, 8 * MIB) % MIB == 0
    assert parts.part_size_for(1024**4) == 105 * MIB  # a buffered part (upload, download): the smallest that fits


def test_a_copy_in_8_mib_passes_moves_every_byte_once_and_hashes_it():
    data = os.urandom(100 * MIB + 17)
    store, states, digests = copy_all(data, 8 * MIB)
    assert len(states) == 13 and [s.offset for s in states][:3] == [8 * MIB, 16 * MIB, 24 * MIB]
    assert store.objects["images/x"] == data
    assert digests.checksum == hashlib.md5(data).hexdigest()
    assert digests.hash_value == hashlib.sha512(data).hexdigest()
    assert store.multipart == {}  # completed


def test_the_state_stays_a_few_hundred_bytes():
    _, states, _ = copy_all(os.urandom(40 * MIB), 8 * MIB)
    assert max(len(s.model_dump_json()) for s in states) < 800


def test_a_pass_ends_at_a_part_boundary_when_its_time_runs_short(monkeypatch):
    from image_import.transfer import parts

    monkeypatch.setattr(parts, "MAX_PART_SIZE", 8 * MIB)  # passes of many parts
    data = os.urandom(40 * MIB)
    ticks = iter(range(1000))
    # every part read takes one tick; a pass may use two before its deadline
    store, states, digests = copy_all(data, 1024 * MIB, clock=lambda: next(ticks) % 2, deadline=1)
    assert [s.offset for s in states] == [16 * MIB, 32 * MIB, 40 * MIB]  # two parts a pass
    assert store.objects["images/x"] == data and digests.checksum == hashlib.md5(data).hexdigest()


def test_an_algorithm_that_cannot_be_resumed_gets_one_pass():
    data = os.urandom(20 * MIB)
    store, states, digests = copy_all(data, 8 * MIB, algorithm="sha3_512")
    assert len(states) == 1 and digests.hash_value == hashlib.sha3_512(data).hexdigest()


def test_an_algorithm_that_cannot_be_resumed_fails_clearly_when_one_pass_is_not_enough():
    ticks = iter(range(1000))
    with pytest.raises(ImportFailed, match="sha3_512 cannot be resumed across passes"):
        copy_all(os.urandom(20 * MIB), 8 * MIB, algorithm="sha3_512", clock=lambda: next(ticks), deadline=0)


def test_staged_data_replaced_between_passes_fails_the_import():
    data = os.urandom(20 * MIB)
    staging, store, _ = staged(data)
    state = passes.start(len(data), staging.etag("staging/x"), 8 * MIB, None)
    state = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=None).run(state, 8 * MIB, float("inf"))
    staging.put("staging/x", os.urandom(20 * MIB))
    with pytest.raises(ImportFailed, match="staged data changed"):
        passes.CopyPass(staging, "staging/x", store, "images/x", hasher=None).run(state, 8 * MIB, float("inf"))


def test_known_digests_make_a_pass_copy_without_reading():
    data = os.urandom(20 * MIB)
    staging, store, _ = staged(data)
    state = passes.start(len(data), staging.etag("staging/x"), 8 * MIB, None)
    while not state.done:
        state = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=None).run(state, 8 * MIB, float("inf"))
    assert store.objects["images/x"] == data
    assert getattr(staging, "bytes_read", 0) == 0


def test_a_broken_read_is_a_pass_to_retry_from_its_input_state():
    data = os.urandom(24 * MIB)
    staging, store, _ = staged(data)
    state = passes.start(len(data), staging.etag("staging/x"), 8 * MIB, "sha512")
    first = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=ParallelHasher.resume(state.hashing))
    state = first.run(state, 8 * MIB, float("inf"))

    real = staging.ranged_chunks

    def broken(*args, **kwargs):
        yield next(real(*args, **kwargs))
        raise ConnectionResetError("reset")

    staging.ranged_chunks = broken
    with pytest.raises(PassInterrupted, match=f"broke off at byte {8 * MIB}"):
        passes.CopyPass(staging, "staging/x", store, "images/x", hasher=ParallelHasher.resume(state.hashing)).run(
            state, 8 * MIB, float("inf")
        )
    staging.ranged_chunks = real
    while not state.done:
        hasher = ParallelHasher.resume(state.hashing)
        state = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=hasher).run(
            state, 8 * MIB, float("inf")
        )
    assert store.objects["images/x"] == data
    assert hasher.finish().hash_value == hashlib.sha512(data).hexdigest()


def test_a_last_pass_that_died_after_completing_the_upload_is_finished_by_its_retry():
    data = os.urandom(20 * MIB)
    staging, store, _ = staged(data)
    state = passes.start(len(data), staging.etag("staging/x"), 8 * MIB, "sha512")
    while state.offset + state.part_size < state.size:  # up to the last pass
        hasher = ParallelHasher.resume(state.hashing)
        state = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=hasher).run(
            state, 8 * MIB, float("inf")
        )
        hasher.close()
    real_head = store.head
    calls = []

    def head_then_die(key):
        calls.append(key)
        if len(calls) > 1:  # the check after completing: the function dies there
            raise ConnectionResetError("died after completing")
        return real_head(key)

    store.head = head_then_die
    with pytest.raises(PassInterrupted):
        passes.CopyPass(staging, "staging/x", store, "images/x", hasher=ParallelHasher.resume(state.hashing)).run(
            state, 8 * MIB, float("inf")
        )
    assert store.objects["images/x"] == data and store.multipart == {}  # completed, its state lost
    store.head = real_head
    hasher = ParallelHasher.resume(state.hashing)
    done = passes.CopyPass(staging, "staging/x", store, "images/x", hasher=hasher).run(state, 8 * MIB, float("inf"))
    assert done.done and hasher.finish().hash_value == hashlib.sha512(data).hexdigest()

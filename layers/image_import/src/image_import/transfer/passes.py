"""Copy a staged object into the store in passes: no function timeout caps an image's size.

Each pass is one function call. It moves a bounded range (``max_bytes_per_pass`` or the call's
deadline, whichever ends first) and returns a ``CopyState`` of a few hundred bytes: the multipart
upload, the next offset, the hashing state. The next pass, or the retry of a pass that broke off,
starts at that offset, so a failure costs at most one pass's bytes.

The bytes cross the function once: the store object's parts are copied server-side
(``UploadPartCopy``) while the pass reads the same ranges only to hash them, and every read and every
copy is pinned to the staged object's ETag, so a part can never come from another object. When the
digests are already known (a web-download hashed while it wrote), a pass only copies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from image_import.errors import ImportFailed, PassInterrupted, SourceChanged
from image_import.models.job import CopyState
from image_import.transfer.hashing import ParallelHasher, fresh_snapshot
from image_import.transfer.parts import MIB, part_size_for

READ_CHUNK = 8 * MIB
COPIES_AHEAD = 3  # part copies in flight ahead of the reads
READS_AHEAD = 2  # ranged GETs in flight ahead of the hashers


def start(size: int, etag: str, max_bytes_per_pass: int, algorithm: str | None) -> CopyState:
    """The state before the first pass; ``algorithm``: the multihash the copy computes (None: the digests
    are known, nothing is hashed)."""
    return CopyState(
        size=size,
        source_etag=etag,
        part_size=part_size_for(size, max_bytes_per_pass),
        hashing=None if algorithm is None else fresh_snapshot(algorithm),
    )


def pass_bytes(state: CopyState, max_bytes_per_pass: int, hasher: ParallelHasher | None) -> int:
    """What one pass moves at most: whole parts, or everything for a hashing that cannot be resumed."""
    if hasher is not None and not hasher.resumable:
        return state.size
    return max(1, max_bytes_per_pass // state.part_size) * state.part_size


class CopyPass:
    """One pass: copy parts from ``source`` to ``target`` while reading them into ``hasher``."""

    def __init__(
        self,
        source,
        source_key: str,
        target,
        target_key: str,
        *,
        hasher: ParallelHasher | None,
        on_bytes: Callable[[int], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.source, self.source_key, self.target, self.target_key = source, source_key, target, target_key
        self.hasher, self.on_bytes, self.clock = hasher, on_bytes, clock

    def run(self, state: CopyState, budget: int, deadline: float) -> CopyState:
        try:
            return self._run(state, budget, deadline)
        except SourceChanged:
            raise ImportFailed("The staged data changed during the import; stage it again") from None
        except (ImportFailed, PassInterrupted):
            raise
        except Exception as exc:  # S3 or the network broke off: the pass is retried from state.offset
            raise PassInterrupted(f"The copy to the store broke off at byte {state.offset}: {exc!r}") from exc

    def _run(self, state: CopyState, budget: int, deadline: float) -> CopyState:
        size, part_size = state.size, state.part_size
        if size <= part_size:
            # one part: one pinned CopyObject, and the bytes read once to hash them
            self._read(state, 0, size - 1)
            if size:
                self.target.copy_from(self.source, self.source_key, state.source_etag, self.target_key)
            else:
                self.target.write(self.target_key, [], part_size=part_size)
            return self._finished(state, size, upload_id=None)
        upload_id = state.upload_id or self.target.start_multipart(self.target_key)
        end = min(size, state.offset + budget)
        offset = state.offset
        if state.upload_id and self._completed_before(state):
            # the attempt this one retries completed the upload, then died before returning its state:
            # only the hashing of the rest is left to do
            self._read(state, offset, size - 1)
            return self._finished(state, size, upload_id)
        with ThreadPoolExecutor(max_workers=COPIES_AHEAD, thread_name_prefix="part-copy") as pool:
            copies: dict[int, Future] = {}
            first_part = offset // part_size
            last_part = -(-end // part_size) - 1
            for number in range(first_part, last_part + 1):
                # keep a few copies running ahead of the reads; a copy runs in S3, not here
                for ahead in range(number, min(last_part, number + COPIES_AHEAD - 1) + 1):
                    if ahead not in copies:
                        copies[ahead] = pool.submit(self._copy_part, state, upload_id, ahead)
                part_end = min(size, (number + 1) * part_size)
                self._read(state, number * part_size, part_end - 1)
                copies[number].result()
                offset = part_end
                if offset < end and self.clock() >= deadline:
                    break  # the function's time runs short: the next pass goes on from here
            for future in copies.values():
                future.result()  # a failed copy ahead fails the pass: its retry copies it again
        if offset == size:
            if not self.target.complete_multipart(self.target_key, upload_id):
                raise PassInterrupted(f"The multipart upload of {self.target_key} is gone")
            return self._finished(state, offset, upload_id)
        return state.model_copy(
            update={
                "upload_id": upload_id,
                "offset": offset,
                "passes": state.passes + 1,
                "hashing": self._snapshot(state),
            }
        )

    def _completed_before(self, state: CopyState) -> bool:
        if state.offset + state.part_size < state.size:
            return False  # not the last pass: nothing could have completed the upload
        stored = self.target.head(self.target_key)
        return stored is not None and stored[0] == state.size

    def _copy_part(self, state: CopyState, upload_id: str, index: int) -> None:
        first = index * state.part_size
        last = min(state.size, first + state.part_size) - 1
        self.target.copy_part_from(
            self.source, self.source_key, state.source_etag, self.target_key, upload_id, index + 1, first, last
        )

    def _read(self, state: CopyState, first: int, last: int) -> None:
        """Hash bytes first..last: READS_AHEAD ranged GETs in flight, fed to the hashers in order (one GET
        at a time leaves the hashers waiting on each request's latency)."""
        if self.hasher is None or last < first:
            self.on_bytes(last - first + 1)
            return
        ranges = [(start, min(last, start + READ_CHUNK - 1)) for start in range(first, last + 1, READ_CHUNK)]

        def fetch(span: tuple[int, int]) -> bytes:
            return b"".join(self.source.ranged_chunks(self.source_key, *span, state.source_etag, READ_CHUNK))

        with ThreadPoolExecutor(max_workers=READS_AHEAD, thread_name_prefix="part-read") as pool:
            pending = [pool.submit(fetch, span) for span in ranges[:READS_AHEAD]]
            for index in range(len(ranges)):
                chunk = pending.pop(0).result()
                if index + READS_AHEAD < len(ranges):
                    pending.append(pool.submit(fetch, ranges[index + READS_AHEAD]))
                self.hasher.update(chunk)
                self.on_bytes(len(chunk))
                del chunk  # memory: READS_AHEAD chunks in flight and the two the hashers hold

    def _snapshot(self, state: CopyState) -> dict | None:
        if self.hasher is None:
            return None
        if not self.hasher.resumable:
            raise ImportFailed(
                f"hashing_algorithm {self.hasher.algorithm} cannot be resumed across passes, and the image "
                f"({state.size} bytes) could not be hashed within one function call; configure sha512 (or "
                f"sha256, sha1, md5) to import images this large"
            )
        return self.hasher.snapshot()

    def _finished(self, state: CopyState, offset: int, upload_id: str | None) -> CopyState:
        stored = self.target.head(self.target_key)
        if stored is None or stored[0] != state.size:
            raise PassInterrupted(f"The store object has {stored and stored[0]} bytes, not {state.size}")
        return state.model_copy(
            update={"upload_id": upload_id, "offset": offset, "passes": state.passes + 1, "done": True}
        )

"""The web-download method: check the URI at the import call, then fetch it into staging.

The check runs in the API (400, nothing changed) and again before every connection of the workflow
step, because DNS may answer differently minutes later. The step connects to the address it just
checked, follows at most MAX_REDIRECTS redirects (each one checked again) and streams the body into
the staging bucket with bounded memory, enforcing ``image_size_cap`` and ``Content-Length``. The
common pipeline (verify staging, plugins, store, ...) then follows.

The download moves in passes, each one function call (the state machine runs WebDownload again until
``$.download.done``): ranged GETs (``Range``, then ``If-Range`` on the first answer's validator) into
one multipart upload of ``web-download/<id>``, hashed as they go with resumable digests, so the store
step need not read the data again (``job.download.digests``). A pass ends on ``max_bytes_per_pass`` or
its deadline, at a part boundary; ``job.download.progress`` (a few hundred bytes) says where the next one
starts, and a pass that broke off (PassInterrupted) is run again from that same state. A server that
ignores ranges, or an algorithm that cannot be resumed, gets one pass.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol
from urllib.parse import urljoin

from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, GlanceError, ImportFailed, PassInterrupted, check_schema
from image_import.models import ImportJob
from image_import.models.job import DownloadState, KnownDigests
from image_import.policy.uri_filter import Resolver, Target, UriRejected, check_uri, system_resolver
from image_import.settings import Settings
from image_import.steps.actions import ImageActions
from image_import.steps.progress import Progress
from image_import.steps.work import check_expected, set_processing
from image_import.transfer.hashing import ParallelHasher
from image_import.transfer.parts import MIN_PART_SIZE, part_size_for

METHOD = "web-download"
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
MIB = 1024 * 1024
# parts of the staging multipart upload: all of one size, a multiple of this (S3's minimum is 5 MiB),
# large enough that the whole image fits in S3's 10,000 parts


class Response(Protocol):
    status: int

    def header(self, name: str) -> str | None: ...
    def chunks(self) -> Any: ...
    def close(self) -> None: ...


class Fetcher(Protocol):
    def get(self, target: Target, headers: dict[str, str] | None = None) -> Response: ...


def prepare(body: dict, settings: Settings, resolve: Resolver | None = None) -> tuple[str, tuple[str, str] | None]:
    """At the import call: the checked URI and the expected digest (or None)."""
    uri = checked_uri(body["method"], settings, resolve or system_resolver)
    return uri, validation_data(body)


def checked_uri(method: dict, settings: Settings, resolve: Resolver = system_resolver) -> str:
    """The import call's check: the URI, or 400 in Glance's words."""
    uri = method.get("uri")
    try:
        check_uri(uri, settings.uri_filter, resolve)
    except UriRejected:
        raise BadRequest(f"URI for web-download does not pass filtering: {uri}") from None
    return uri


# Glance's add-location ``validation_data`` (glance/api/v2/images.py, get_add_location_properties)
VALIDATION_ALGORITHMS = ["sha1", "sha256", "sha512", "md5"]
VALIDATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "os_hash_algo": {"type": "string", "maxLength": 64, "enum": VALIDATION_ALGORITHMS},
        "os_hash_value": {"type": "string", "maxLength": 128},
    },
    "dependentRequired": {"os_hash_value": ["os_hash_algo"], "os_hash_algo": ["os_hash_value"]},
}


def validation_data(body: dict) -> tuple[str, str] | None:
    """Optional expected digest: ``validation_data: {os_hash_algo, os_hash_value}``, beside ``uri``.

    Same shape, algorithms and checks (and 400 messages) as Glance's add-location API; as there, the
    import hashes the data with that algorithm, records it as the image's ``os_hash_algo`` and fails
    on a mismatch. An empty object asks for nothing.
    """
    method = body["method"]
    if "validation_data" not in method and "validation_data" not in body:
        return None
    data = method.get("validation_data", body.get("validation_data"))
    check_schema(data, VALIDATION_SCHEMA, "validation_data")
    if not data:
        return None
    algo, value = data["os_hash_algo"], data["os_hash_value"]
    try:
        digest = bytes.fromhex(value)
    except ValueError:
        raise BadRequest(f"os_hash_value ({value}) is not a valid hexadecimal value") from None
    want = hashlib.new(algo).digest_size
    if len(digest) != want:
        raise BadRequest(f"os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({want}) bytes)")
    return algo, digest.hex()


def pass_bytes(settings: Settings, part_size: int) -> int:
    """What one pass moves at most: ``max_bytes_per_pass`` rounded down to whole parts (at least one)."""
    return max(part_size, settings.max_bytes_per_pass // part_size * part_size)


def download(
    job: ImportJob,
    settings: Settings,
    ports: Ports,
    deadline: float | None = None,
    fetcher: Fetcher | None = None,
    resolve: Resolver = system_resolver,
    clock: Callable[[], float] = time.monotonic,
) -> ImportJob:
    """Workflow step, one pass: the URI's next bytes into ``job.staging_key``; ``job.download.progress`` records how far.

    ``deadline`` (a ``clock()`` value; None: no time bound) is when the pass must stop, at a part boundary.
    The input job is never changed, so a pass that raised PassInterrupted can run again from it.
    """
    if fetcher is None:
        from image_import.adapters.web import WebFetcher

        fetcher = WebFetcher()
    if job.download is None:
        raise ImportFailed("The import names no URI to download")
    if job.download.progress is not None and job.download.progress.done:
        return job
    actions = ImageActions.of(job, ports, settings)  # current(): fails fast if gone or lost
    one_pass = _Pass(job, actions, settings, ports, fetcher, resolve, math.inf if deadline is None else deadline, clock)
    return one_pass.run()


class _Pass:
    def __init__(self, job, actions: ImageActions, settings: Settings, ports: Ports, fetcher, resolve, deadline, clock):
        self.actions, self.image = actions, actions.current()
        self.job, self.settings, self.ports = job, settings, ports
        self.fetcher, self.resolve, self.deadline, self.clock = fetcher, resolve, deadline, clock
        self.key = job.staging_key
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-part")
        self._in_flight: Future | None = None  # one part uploads while the next one is read
        self._started: str | None = None  # the upload this pass created (the first pass)

    def run(self) -> ImportJob:
        if self.job.download.progress is None:
            set_processing(self.job, self.settings, self.ports)
            state, hasher = None, ParallelHasher(self.image.os_hash_algo or self.settings.hashing_algorithm)
        else:
            state = self.job.download.progress.model_copy()  # the input job stays as it was, for a retry of this pass
            hasher = ParallelHasher.resume(state.hashing)
        self.hasher = hasher
        try:
            state = self._first() if state is None else self._next(state)
            if state.offset < state.size:
                state.hashing = hasher.snapshot()
                return self.job.with_slice("download", progress=state)
            return self._finish(state)
        finally:
            self._uploads.shutdown(wait=True, cancel_futures=True)
            hasher.close()

    # ---- the first pass: learn whether ranges are served, the total and the validator
    def _first(self) -> DownloadState:
        ranged = self.hasher.resumable
        headers = {"Range": f"bytes=0-{pass_bytes(self.settings, MIN_PART_SIZE) - 1}"} if ranged else {}
        response, uri = _open(self.job.download.uri, self.settings, self.fetcher, self.resolve, headers, also=(416,))
        if response.status == 416:  # an empty file has no first byte to ask for: ask for all of it
            response.close()
            response, uri = _open(self.job.download.uri, self.settings, self.fetcher, self.resolve)
        try:
            if response.status == 206:
                first, last, total = _content_range(response, uri)
                if first != 0:
                    raise ImportFailed(f"Could not download {uri}: the server answered another range than asked for")
                _check_cap(total, self.settings)
                state = DownloadState(
                    uri=uri,
                    validator=_validator(response),
                    size=total,
                    part_size=part_size_for(total),
                    upload_id=self._start(),
                )
                end = min(total, last + 1, pass_bytes(self.settings, state.part_size))
                if end < total:
                    end -= end % state.part_size  # a pass ends on a part boundary (0: only probed)
                self._move(response, state, end, uri)
            else:
                state = self._whole(response, uri, ranged)
        except BaseException:
            if self._started is not None:  # the retry of this pass starts a new upload: this one is nobody's
                self._forget(self._started)
            raise
        finally:
            response.close()
        state.passes += 1
        return state

    def _whole(self, response: Response, uri: str, ranged: bool) -> DownloadState:
        """An answer of 200: everything in this pass, as the server will not send pieces."""
        expected = _content_length(response)
        _check_cap(expected or 0, self.settings)
        part_size = part_size_for(expected or self.settings.image_size_cap)
        state = DownloadState(uri=uri, size=-1, part_size=part_size, upload_id=self._start())
        if ranged:
            why = "The server does not serve ranges (HTTP Range)"
        else:
            why = f"{self.hasher.algorithm} hashing cannot be resumed in another function call"
        self._move(response, state, None, uri, too_slow=f"{why}, and the download of {uri} could not finish in one")
        state.size = state.offset
        if expected is not None and state.size != expected:
            raise ImportFailed(f"Downloaded {state.size} bytes but the server announced {expected} (Content-Length)")
        return state

    # ---- a later pass: the next range, only if the source is still what the first pass saw
    def _next(self, state: DownloadState) -> DownloadState:
        end = min(state.size, state.offset + pass_bytes(self.settings, state.part_size))
        headers = {"Range": f"bytes={state.offset}-{end - 1}"}
        if state.validator:
            headers["If-Range"] = state.validator
        response, uri = _open(state.uri, self.settings, self.fetcher, self.resolve, headers, later=True)
        try:
            changed = f"The image at {uri} changed during the download; import it again"
            if response.status != 206:  # 200: If-Range did not match, the whole new version came back
                raise ImportFailed(changed)
            first, _, total = _content_range(response, uri)
            etag = response.header("ETag")
            if total != state.size or (_is_etag(state.validator) and etag and etag != state.validator):
                raise ImportFailed(changed)
            if first != state.offset:
                raise ImportFailed(f"Could not download {uri}: the server answered another range than asked for")
            self._move(response, state, end, uri)
        except ImportFailed:
            self._forget(state.upload_id)
            raise
        finally:
            response.close()
        state.passes += 1
        return state

    def _move(self, response: Response, state: DownloadState, end: int | None, uri: str, too_slow: str = "") -> None:
        """Parts from the response into the upload, from ``state.offset`` to ``end`` (None: to the body's end).

        Stops early at the deadline, after a whole part: ``too_slow`` given, that is a failure instead.
        """
        progress = Progress(self.ports, self.job.task_id, start=state.offset)
        chunks: Iterable[bytes] = progress.track(_read(response, uri))
        if end is None:
            chunks = _capped(chunks, self.settings)
        pending: list[bytes] = []
        held = 0  # bytes in pending
        for chunk in chunks:
            if end is not None:
                chunk = chunk[: end - state.offset - held]  # a server sending more than asked for
            pending.append(chunk)
            held += len(chunk)
            while held >= state.part_size:
                data = b"".join(pending)
                rest = data[state.part_size :]
                pending, held = ([rest] if rest else []), len(rest)
                self._part(state, data if not rest else data[: state.part_size])
                if self.clock() >= self.deadline and state.offset != end:
                    if too_slow:
                        raise ImportFailed(f"{too_slow} function call")
                    self._settle()
                    return  # the next pass goes on from here
            if end is not None and state.offset + held >= end:
                break
        if end is not None and state.offset + held < end:
            raise PassInterrupted(f"The download of {uri} broke off {end - state.offset - held} bytes before its end")
        if (end is None or end == state.size) and (held or state.part == 1):
            self._part(state, b"".join(pending))  # the object's last part (or an empty object's only one)
        self._settle()

    def _start(self) -> str:
        self._started = self._s3(self.ports.staging.start_multipart, self.key)
        return self._started

    def _part(self, state: DownloadState, data: bytes) -> None:
        arrived = state.offset + len(data)
        if self.actions.counts_bytes:  # claimed before it is stored (quotas/growth.py): over, the import fails
            self.actions.apply(lambda image: setattr(image, "arriving", arrived))
        self.hasher.update(data)
        self._settle()  # at most one part uploads while the next is read
        number = state.part
        self._in_flight = self._uploads.submit(self.ports.staging.upload_part, self.key, state.upload_id, number, data)
        state.offset += len(data)
        state.part += 1

    def _settle(self) -> None:
        if self._in_flight is not None:
            future, self._in_flight = self._in_flight, None
            self._s3(future.result)

    # ---- the last pass: complete the upload and record what the staged object hashes to
    def _finish(self, state: DownloadState) -> ImportJob:
        completed = self._s3(self.ports.staging.complete_multipart, self.key, state.upload_id)
        staged = self._s3(self.ports.staging.head, self.key)
        digests = self.hasher.finish()
        try:
            if not completed or staged is None or staged[0] != state.size or digests.size != state.size:
                raise ImportFailed(f"The staged download of {state.uri} is not the {state.size} bytes fetched")
            check_expected(self.image, digests)
        except ImportFailed:
            self.ports.staging.delete(self.key)
            raise
        state.offset, state.hashing, state.done = state.size, None, True
        known = KnownDigests(
            etag=staged[1],
            size=digests.size,
            checksum=digests.checksum,
            hash_algo=digests.hash_algo,
            hash_value=digests.hash_value,
        )
        return self.job.with_slice("download", progress=state, digests=known)

    def _forget(self, upload_id: str) -> None:
        """A failed download keeps nothing (best effort: the revert and the sweeper remove what is left)."""
        try:
            self.ports.staging.abort_multipart(self.key, upload_id)
            self.ports.staging.delete(self.key)
        except Exception:  # the error that got us here matters more
            pass

    @staticmethod
    def _s3(call: Callable[..., Any], *args: Any) -> Any:
        """A staging bucket call; its failure is S3's, which a retry of the pass may not meet again."""
        try:
            return call(*args)
        except (ImportFailed, PassInterrupted, GlanceError):
            raise
        except Exception as exc:
            raise PassInterrupted(f"The staging bucket failed: {exc!r}") from exc


def _check_cap(size: int, settings: Settings) -> None:
    if size > settings.image_size_cap:
        raise ImportFailed(f"The download is {size} bytes, over the size cap of {settings.image_size_cap} bytes")


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$")


def _content_range(response: Response, uri: str) -> tuple[int, int, int]:
    """(first, last, total) of a 206 answer."""
    value = response.header("Content-Range") or ""
    match = _CONTENT_RANGE.match(value)
    if match is None:
        raise ImportFailed(f"Could not download {uri}: the server answered a range without its size ({value!r})")
    first, last, total = map(int, match.groups())
    return first, last, total


def _validator(response: Response) -> str | None:
    """What later passes send as If-Range: a strong ETag (a weak one never matches there), else Last-Modified."""
    etag = response.header("ETag")
    if _is_etag(etag):
        return etag
    return response.header("Last-Modified")


def _is_etag(value: str | None) -> bool:
    return bool(value) and value.startswith('"')


def _open(
    uri: str | None,
    settings: Settings,
    fetcher: Fetcher,
    resolve: Resolver,
    headers: dict[str, str] | None = None,
    later: bool = False,
    also: tuple[int, ...] = (),
) -> tuple[Response, str]:
    """Follow redirects, checking each place before connecting. ``later``: a pass after the first, where a
    server that served us before and now fails to answer (network, 5xx) is worth a retry of the pass."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = check_uri(uri, settings.uri_filter, resolve)
        except UriRejected as exc:
            raise ImportFailed(f"URI for web-download does not pass filtering ({exc.reason}): {uri}") from None
        try:
            response = fetcher.get(target, headers)
        except (OSError, http.client.HTTPException) as exc:  # refused, TLS, timeout, garbled answer
            if later:
                raise PassInterrupted(f"Could not download {uri}: {exc!r}") from None
            raise ImportFailed(f"Could not download {uri}: {exc!r}") from None
        if response.status in REDIRECTS and response.header("Location"):
            uri = urljoin(uri, response.header("Location"))
            response.close()
            continue
        if response.status not in (200, 206, *also):
            response.close()
            if later and response.status >= 500:
                raise PassInterrupted(f"Could not download {uri}: the server answered HTTP {response.status}")
            raise ImportFailed(f"Could not download {uri}: the server answered HTTP {response.status}")
        return response, uri
    raise ImportFailed(f"Could not download the image: more than {MAX_REDIRECTS} redirects")


def _content_length(response: Response) -> int | None:
    value = response.header("Content-Length")
    if value is None or not value.strip().isdigit() or int(value) == 0:
        return None  # unknown (or 0, as Glance treats it): no check
    return int(value)


def _read(response: Response, uri: str) -> Iterator[bytes]:
    """The body; a broken connection is worth another try of the pass (from where it started)."""
    try:
        yield from response.chunks()
    except (OSError, http.client.HTTPException) as exc:
        raise PassInterrupted(f"The download of {uri} broke off: {exc!r}") from None


def _capped(chunks: Iterable[bytes], settings: Settings) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > settings.image_size_cap:
            raise ImportFailed(f"Image exceeds the size cap of {settings.image_size_cap} bytes")
        yield chunk

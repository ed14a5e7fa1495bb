"""moto's S3, streamed: the few operations of the import path that held a whole object in memory.

moto keeps each object (and each part) in a ``SpooledTemporaryFile``, so the data is on disk once it is
larger than a few MiB; what does not scale is how some operations move it: ``key.value`` reads the
whole file into one ``bytes``. CompleteMultipartUpload joined every part in a bytearray (and once more
for its checksum), UploadPartCopy read the whole source for every part, and GetObject (whole or
ranged) built the whole object before slicing. Importing 512 MiB peaked at 4.8 GB RSS.

``install()`` (the local stack calls it when it starts moto) changes, for this process:

- ``FakeMultipart.complete``: the parts are copied chunk by chunk into the new key's spooled file, the
  checksum computed as they go; moto's checks (InvalidPart, EntityTooSmall, MalformedXML) in its order,
  the ETag S3 gives (md5 of the part md5s, ``-N``);
- GetObject, UploadPartCopy and CopyObject run moto's own code, but inside them ``key.value`` is a
  ``KeyBody``: a view of the key's file that slices without reading and is read in chunks when it is
  sent (the HTTP response iterates it) or copied (``FakeKey.value = body`` streams it);
- a request body (UploadPart, PutObject) is read from the socket into one ``bytes`` of its length, not
  grown 64 KiB at a time in a bytearray and copied (werkzeug's ``LimitedStream.readall``: 3x the part),
  and freed when the request is answered, not whenever the cyclic GC next runs;
- CopyObject and UploadPartCopy honour ``x-amz-copy-source-if-match`` / ``-if-none-match``
  (``CopySourceIfMatch``), which moto ignores: 412 PreconditionFailed, as S3 answers.

Dev-only, like the rest of the local stack: the Lambda layer and the domain code never see it.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

CHUNK_SIZE = 1024 * 1024  # what a stream holds at once, per request

_originals: dict[tuple[type, str], Any] = {}
_scope = threading.local()  # inside GetObject, UploadPartCopy or CopyObject: key.value is a KeyBody


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Replace the operations above in moto's S3 classes (idempotent)."""
    if _originals:
        return
    from moto.s3.models import FakeKey, FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    value = FakeKey.value
    _replace(FakeKey, "value", property(_lazy_value(value.fget), _streaming_setter(value.fset)))
    _replace(FakeMultipart, "complete", _complete)
    _replace(S3Backend, "upload_part_copy", _in_scope(S3Backend.upload_part_copy))
    _replace(S3Backend, "copy_object", _in_scope(S3Backend.copy_object))
    _replace(S3Response, "get_object", _streamed_when_served(S3Response.get_object))
    _replace(S3Response, "upload_part_copy", _source_checked(S3Response.upload_part_copy))
    _replace(S3Response, "copy_object", _source_checked(S3Response.copy_object))
    from werkzeug.wsgi import LimitedStream

    _replace(LimitedStream, "readall", _read_body_at_once(LimitedStream.readall))
    from moto.core.utils import convert_to_flask_response

    _replace(convert_to_flask_response, "__call__", _body_freed_when_answered(convert_to_flask_response.__call__))
    _large_buffers_back_to_the_os()


def uninstall() -> None:
    """moto as it was (for tests that compare)."""
    for (cls, name), original in _originals.items():
        setattr(cls, name, original)
    _originals.clear()


def _replace(cls: type, name: str, new: Any) -> None:
    _originals[(cls, name)] = cls.__dict__[name]
    setattr(cls, name, new)


# ---------------------------------------------------------------------------- request bodies, malloc
def _read_body_at_once(original: Any) -> Any:
    def readall(self: Any) -> bytes:
        remaining = self.limit - self._pos
        if self._limit_is_max or remaining <= 0:
            return original(self)
        data = self._stream.read(remaining)  # a BufferedReader reads straight into a bytes of that size
        if 0 < len(data) < remaining:  # a stream that returns what it has: the rest, then one join
            pieces = [data]
            while remaining > (got := sum(map(len, pieces))) and (piece := self._stream.read(remaining - got)):
                pieces.append(piece)
            data = b"".join(pieces)
        self._pos += len(data)
        if len(data) < remaining:
            self.on_disconnect()
        return data

    return readall


def _body_freed_when_answered(original: Any) -> Any:
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        from flask import request

        try:
            return original(self, *args, **kwargs)
        finally:
            # the request sits in reference cycles, so it and the body it read lived until the cyclic
            # GC next ran: 0.25 GB of answered UploadPart bodies were seen alive at once
            for cached in ("_cached_data", "data"):
                request.__dict__.pop(cached, None)

    return __call__


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _large_buffers_back_to_the_os() -> None:
    """Every allocation of 1 MiB or more mmap-ed, so freed at once. glibc otherwise raises its mmap
    threshold after the first freed part and carves the next parts out of its heaps, which then stay
    fragmented: RSS grew by ~0.4 GiB per GiB staged, all of it free memory (malloc_trim gave it back)."""
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
    except (AttributeError, OSError):  # not glibc (macOS, musl): nothing to tune
        pass


# ---------------------------------------------------------------------------- reading a key's file
def read_at(key: Any, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes of ``key`` from ``offset``, without moving the file's shared position (many
    requests read one key at once, and moto's own readers seek it)."""
    buffer = key._value_buffer
    if buffer._rolled:  # on disk
        return os.pread(buffer.fileno(), size, offset)
    with buffer._file.getbuffer() as view:  # still in memory (under moto's few-MiB spool limit)
        return bytes(view[offset : offset + size])


class KeyBody:
    """Bytes ``start`` to ``stop`` of a key, read only when iterated, in CHUNK_SIZE pieces.

    Enough of ``bytes`` for the moto code it is handed to: ``len``, slices (what a Range does) and
    iteration (what werkzeug does with a response body, what the streaming setter does with a copy).
    """

    def __init__(self, key: Any, start: int = 0, stop: int | None = None):
        self.key, self.start = key, start
        self.stop = key.contentsize if stop is None else stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __getitem__(self, item: slice) -> KeyBody:
        if not isinstance(item, slice):
            raise TypeError("a KeyBody is only sliced")
        first, last, step = item.indices(len(self))
        if step != 1:
            raise ValueError("a KeyBody slice has no step")
        return KeyBody(self.key, self.start + first, self.start + max(first, last))

    def __iter__(self) -> Iterator[bytes]:
        offset = self.start
        while offset < self.stop:
            chunk = read_at(self.key, offset, min(CHUNK_SIZE, self.stop - offset))
            if not chunk:
                raise OSError(f"{self.key.name}: file ended at {offset} of {self.stop}")
            offset += len(chunk)
            yield chunk

    def __bytes__(self) -> bytes:
        return b"".join(self)


class SpooledValue:
    """A spooled file already holding a key's bytes: the key adopts the file itself (no copy)."""

    def __init__(self, file: Any, size: int):
        self.file, self.size = file, size

    def __len__(self) -> int:
        return self.size


@contextmanager
def _lazy_values() -> Iterator[None]:
    _scope.depth = getattr(_scope, "depth", 0) + 1
    try:
        yield
    finally:
        _scope.depth -= 1


def _lazy_value(original_get: Any) -> Any:
    def value(self: Any) -> Any:
        if getattr(_scope, "depth", 0):
            return KeyBody(self)
        return original_get(self)

    return value


def _streaming_setter(original_set: Any) -> Any:
    def value(self: Any, new_value: Any) -> None:
        buffer = self._value_buffer
        if isinstance(new_value, SpooledValue):
            buffer.close()
            self._value_buffer, self.contentsize = new_value.file, new_value.size
        elif isinstance(new_value, KeyBody):
            buffer.seek(0)
            buffer.truncate()
            if len(new_value) > self._max_buffer_size:
                buffer.rollover()  # straight to disk, not through a BytesIO first
            md5 = hashlib.md5(usedforsecurity=False) if self._etag is None else None
            for chunk in new_value:
                buffer.write(chunk)
                if md5 is not None:
                    md5.update(chunk)
            self.contentsize = len(new_value)
            if md5 is not None:
                self._etag = md5.hexdigest()  # now, not by reading the file again on the first HEAD
        else:
            if isinstance(new_value, bytes | bytearray) and len(new_value) > self._max_buffer_size:
                buffer.seek(0)
                buffer.truncate()
                buffer.rollover()  # an UploadPart/PutObject body: one copy to disk, none through a BytesIO
            original_set(self, new_value)
            if self._etag is None and isinstance(new_value, bytes | bytearray):
                self._etag = hashlib.md5(new_value, usedforsecurity=False).hexdigest()  # not by reading it back
        self._value_buffer.flush()  # positioned reads (read_at) go to the file, past Python's buffer

    return value


def _in_scope(method: Any) -> Any:
    @wraps(method)
    def streamed(*args: Any, **kwargs: Any) -> Any:
        with _lazy_values():
            return method(*args, **kwargs)

    return streamed


def _streamed_when_served(method: Any) -> Any:
    """GetObject's body a KeyBody only for moto's HTTP server, which iterates it; ``mock_aws`` (in the
    same process, say a test after the local stack's) wants bytes."""

    @wraps(method)
    def get_object(self: Any) -> Any:
        if not self.is_werkzeug_request:
            return method(self)
        with _lazy_values():
            return method(self)

    return get_object


# ---------------------------------------------------------------------------- CompleteMultipartUpload
def _complete(self: Any, body: Iterator[tuple[int, str]]) -> tuple[SpooledValue, str, tuple[str, str, int] | None]:
    """moto's ``FakeMultipart.complete``, the parts copied into a new spooled file rather than a bytearray."""
    from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
    from moto.settings import S3_UPLOAD_PART_MIN_SIZE, get_s3_default_key_buffer_size

    checksums = StreamingChecksum(
        self.metadata.get("x-amz-checksum-algorithm"), self.metadata.get("x-amz-checksum-type")
    )
    target = tempfile.SpooledTemporaryFile(get_s3_default_key_buffer_size())  # noqa: SIM115 (the new key keeps it)
    md5s = bytearray()
    last, count, size = None, 0, 0
    try:
        for number, etag in body:
            part = self.parts.get(number)
            part_etag = None
            if part is not None:
                part_etag = part.etag.replace('"', "")
                etag = etag.replace('"', "")
            if part is None or part_etag != etag:
                raise InvalidPart()
            if last is not None and last.contentsize < S3_UPLOAD_PART_MIN_SIZE:
                raise EntityTooSmall()
            md5s.extend(bytes.fromhex(part_etag))
            if size + part.contentsize > target._max_size:
                target.rollover()
            for chunk in KeyBody(part):
                target.write(chunk)
                checksums.update(chunk)
            checksums.end_part()
            size += part.contentsize
            last, count = part, count + 1
        if count == 0:
            raise MalformedXML
        target.flush()
    except BaseException:
        target.close()
        raise
    etag = f"{hashlib.md5(bytes(md5s), usedforsecurity=False).hexdigest()}-{count}"
    return SpooledValue(target, size), etag, checksums.build()


class StreamingChecksum:
    """moto's MultipartChecksumBuilder fed chunk by chunk: COMPOSITE (a checksum of the part checksums)
    or FULL_OBJECT (one over every byte), the same algorithms and the same fallbacks as its
    ``compute_checksum`` (CRC32 when the optional crc32c or awscrt is missing)."""

    def __init__(self, algorithm: str | None, checksum_type: str | None):
        self.algorithm = algorithm or "CRC64NVME"
        self.type = checksum_type or ("FULL_OBJECT" if self.algorithm == "CRC64NVME" else "COMPOSITE")
        self.parts = 0
        self._part_checksums = bytearray()
        self._running = _running_checksum(self.algorithm)

    def update(self, chunk: bytes) -> None:
        self._running.update(chunk)

    def end_part(self) -> None:
        self.parts += 1
        if self.type == "COMPOSITE":
            self._part_checksums.extend(self._running.digest())
            self._running = _running_checksum(self.algorithm)

    def build(self) -> tuple[str, str, int]:
        import base64

        from moto.s3.utils import compute_checksum

        if self.type == "COMPOSITE":
            return self.type, compute_checksum(bytes(self._part_checksums), self.algorithm).decode(), self.parts
        return self.type, base64.b64encode(self._running.digest()).decode(), 1


class _Crc:
    def __init__(self, function: Any, width: int):
        self.function, self.width, self.value = function, width, 0

    def update(self, chunk: bytes) -> None:
        self.value = self.function(chunk, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width, "big")


def _running_checksum(algorithm: str) -> Any:
    """An object with update()/digest() giving what moto's compute_checksum gives for all the bytes."""
    if algorithm == "SHA1":
        return hashlib.sha1(usedforsecurity=False)
    if algorithm == "CRC32C":
        try:
            import crc32c

            return _Crc(lambda data, value: crc32c.crc32c(data, value), 4)
        except ImportError:
            return _Crc(binascii.crc32, 4)
    if algorithm == "CRC32":
        return _Crc(binascii.crc32, 4)
    if algorithm == "CRC64NVME":
        from moto.core.compat import HAS_CRT

        if HAS_CRT:
            from awscrt import checksums

            return _Crc(checksums.crc64nvme, 8)
        return _Crc(binascii.crc32, 4)
    return hashlib.sha256(usedforsecurity=False)


# ---------------------------------------------------------------------------- CopySourceIfMatch
def _source_checked(method: Any) -> Any:
    """A copy (CopyObject, UploadPartCopy) refused with 412 when the source fails its If-Match/If-None-Match."""

    @wraps(method)
    def checked(self: Any) -> Any:
        from moto.s3.exceptions import PreconditionFailed

        if_match = self.headers.get("x-amz-copy-source-if-match")
        if_none_match = self.headers.get("x-amz-copy-source-if-none-match")
        if if_match or if_none_match:
            source = _copy_source(self)
            if source is not None:
                if if_match and source.etag not in (if_match, f'"{if_match}"'):
                    raise PreconditionFailed("x-amz-copy-source-If-Match")
                if if_none_match and source.etag in (if_none_match, f'"{if_none_match}"'):
                    raise PreconditionFailed("x-amz-copy-source-If-None-Match")
        return method(self)

    return checked


def _copy_source(response: Any) -> Any:
    """The key ``x-amz-copy-source`` names, parsed as moto parses it; None if there is none (moto answers)."""
    from moto.s3.exceptions import S3ClientError

    copy_source = response.headers.get("x-amz-copy-source")
    if isinstance(copy_source, bytes):
        copy_source = copy_source.decode("utf-8")
    parsed = urlparse(copy_source)
    try:
        bucket, key = unquote(parsed.path).lstrip("/").split("/", 1)
        version = parse_qs(parsed.query).get("versionId", [None])[0]
        return response.backend.get_object(bucket, key, version_id=version)
    except (ValueError, S3ClientError):
        return None

"""S3 buckets for staged data and the image store, streamed in bounded pieces.

Nothing here holds a whole image in memory: reads yield fixed-size chunks and writes go
out as multipart uploads with a bounded number of parts in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from image_import.adapters.aws import Credentials, client, error_code, presigner
from image_import.errors import SourceChanged

# what a read yields at a time; part sizes are not decided here: every write and copy is given its part
# size by its caller, from the one rule (transfer/parts.py)
CHUNK_SIZE = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2
COPIES_IN_FLIGHT = 10  # botocore's default connection pool holds 10
# the source is no longer the object asked for: replaced (If-Match failed) or removed
_SOURCE_CHANGED = ("PreconditionFailed", "412", "NoSuchKey", "404", "NotFound")


class Bucket:
    def __init__(self, name: str, region: str | None = None, credentials: Credentials | None = None):
        self.name = name
        self.region = region  # a store in another region (None: the function's own)
        self.credentials = credentials  # an assumed role's (a plugin's, scoped to its image): None, the function's

    def _s3(self) -> Any:
        return client("s3", self.region, self.credentials)

    def size(self, key: str) -> int | None:
        """Size of the object, or None if there is none."""
        try:
            return self._s3().head_object(Bucket=self.name, Key=key)["ContentLength"]
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def head(self, key: str) -> tuple[int, str] | None:
        """(size, ETag without its quotes) of the object, or None if there is none."""
        try:
            response = self._s3().head_object(Bucket=self.name, Key=key)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return response["ContentLength"], response["ETag"].strip('"')

    def copy(self, source: str, target: str, etag: str, size: int, *, part_size: int) -> bool:
        """Copy ``source`` to ``target`` inside the bucket (server-side: no byte passes through here), only
        while ``source`` is still the object whose ETag is ``etag``; False, and nothing at ``target``, if it
        is not (replaced or removed). Up to ``part_size`` one CopyObject, above it parallel UploadPartCopy
        requests of ``part_size``, every one of them pinned with CopySourceIfMatch: a part can never come
        from another object."""
        pin = {"CopySource": {"Bucket": self.name, "Key": source}, "CopySourceIfMatch": f'"{etag}"'}
        try:
            if size <= part_size:
                self._s3().copy_object(Bucket=self.name, Key=target, **pin)
            else:
                self._copy_parts(target, size, part_size, pin)
        except Exception as exc:
            if error_code(exc) in _SOURCE_CHANGED:
                return False
            raise
        return True

    # ---- a copy in passes (transfer/passes.py): ranged reads and part copies, each pinned to the source's ETag
    def ranged_chunks(
        self, key: str, first: int, last: int, etag: str, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Bytes first..last (inclusive) of the object while it is the one whose ETag is ``etag``
        (SourceChanged if it is not), in chunks."""
        try:
            response = self._s3().get_object(
                Bucket=self.name, Key=key, Range=f"bytes={first}-{last}", IfMatch=f'"{etag}"'
            )
        except Exception as exc:
            if error_code(exc) in _SOURCE_CHANGED:
                raise SourceChanged(key) from None
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def copy_from(self, source: Bucket, source_key: str, etag: str, key: str) -> None:
        """One CopyObject (up to 5 GiB) from another bucket, pinned to the source's ETag."""
        try:
            self._s3().copy_object(
                Bucket=self.name,
                Key=key,
                CopySource={"Bucket": source.name, "Key": source_key},
                CopySourceIfMatch=f'"{etag}"',
            )
        except Exception as exc:
            if error_code(exc) in _SOURCE_CHANGED:
                raise SourceChanged(source_key) from None
            raise

    def copy_part_from(
        self, source: Bucket, source_key: str, etag: str, key: str, upload_id: str, number: int, first: int, last: int
    ) -> None:
        """Part ``number`` of a multipart upload to ``key``: bytes first..last of the source, server-side."""
        try:
            self._s3().upload_part_copy(
                Bucket=self.name,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": source.name, "Key": source_key},
                CopySourceIfMatch=f'"{etag}"',
                CopySourceRange=f"bytes={first}-{last}",
            )
        except Exception as exc:
            if error_code(exc) in _SOURCE_CHANGED:
                raise SourceChanged(source_key) from None
            raise

    def abort_uploads(self, key: str) -> None:
        """Abort every unfinished multipart upload to ``key`` (a reverted copy's, whatever its id)."""
        paginator = self._s3().get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.name, Prefix=key):
            for upload in page.get("Uploads", []):
                if upload["Key"] == key:
                    self.abort_multipart(key, upload["UploadId"])

    def _copy_parts(self, target: str, size: int, part_size: int, pin: dict) -> None:
        s3 = self._s3()
        ranges = [(first, min(first + part_size, size) - 1) for first in range(0, size, part_size)]
        upload_id = s3.create_multipart_upload(Bucket=self.name, Key=target)["UploadId"]

        def copy_part(number: int, first: int, last: int) -> dict:
            response = s3.upload_part_copy(
                Bucket=self.name,
                Key=target,
                UploadId=upload_id,
                PartNumber=number,
                CopySourceRange=f"bytes={first}-{last}",
                **pin,
            )
            return {"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]}

        try:
            with ThreadPoolExecutor(max_workers=COPIES_IN_FLIGHT, thread_name_prefix="s3-copy") as pool:
                parts = list(pool.map(lambda n: copy_part(n + 1, *ranges[n]), range(len(ranges))))
            s3.complete_multipart_upload(
                Bucket=self.name, Key=target, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.abort_multipart(target, upload_id)
            raise

    def chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        body = self._s3().get_object(Bucket=self.name, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self._s3().delete_object(Bucket=self.name, Key=key)

    def read(self, key: str, first: int, last: int, etag: str | None = None) -> bytes:
        """Bytes first..last (inclusive) of the object; for answers small enough to hold. With ``etag``,
        only while the object is that one (SourceChanged otherwise)."""
        if etag is not None:
            return b"".join(self.ranged_chunks(key, first, last, etag))
        response = self._s3().get_object(Bucket=self.name, Key=key, Range=f"bytes={first}-{last}")
        return response["Body"].read()

    def presigned_get(self, key: str, expires_in: int) -> str:
        """A URL that lets its holder GET the object (Range included) for ``expires_in`` seconds."""
        return self._s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": self.name, "Key": key, "ResponseContentType": "application/octet-stream"},
            ExpiresIn=expires_in,
        )

    def listing(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every object under ``prefix``: (key, last modified)."""
        paginator = self._s3().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]

    def uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """Multipart uploads still in progress: (key, upload id, initiated)."""
        paginator = self._s3().get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.name):
            for upload in page.get("Uploads", []):
                yield upload["Key"], upload["UploadId"], upload["Initiated"]

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort an unfinished multipart upload: an abandoned one (the sweeper), a replaced or deleted direct upload."""
        try:
            self._s3().abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
        except Exception as exc:  # already completed or aborted: nothing left to free
            if error_code(exc) not in ("NoSuchUpload", "404", "NotFound"):
                raise

    # ---- direct uploads: presigned URLs the owner PUTs to (the bytes never pass through Lambda)
    # Each URL signs the length it may carry (Content-Length is in its SignedHeaders): S3 refuses a PUT
    # of any other length, so a URL cannot be used to write more (or less) than was announced.
    def presigned_put(self, key: str, expires_in: int, content_length: int) -> str:
        params = {"Bucket": self.name, "Key": key, "ContentLength": content_length}
        return presigner(self.region).generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)

    def start_multipart(self, key: str) -> str:
        return self._s3().create_multipart_upload(Bucket=self.name, Key=key)["UploadId"]

    def presigned_part(self, key: str, upload_id: str, part_number: int, expires_in: int, content_length: int) -> str:
        params = {
            "Bucket": self.name,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ContentLength": content_length,
        }
        return presigner(self.region).generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in)

    def received_parts(self, key: str, upload_id: str) -> dict[int, int] | None:
        """The parts S3 holds of a multipart upload (number -> size); None if there is no such upload."""
        found: dict[int, int] = {}
        try:
            for page in self._s3().get_paginator("list_parts").paginate(Bucket=self.name, Key=key, UploadId=upload_id):
                found.update({p["PartNumber"]: p["Size"] for p in page.get("Parts", [])})
        except Exception as exc:
            if error_code(exc) in ("NoSuchUpload", "404", "NotFound"):
                return None
            raise
        return found

    def complete_multipart(self, key: str, upload_id: str) -> bool:
        """Complete with every part S3 holds (the client need not list ETags); False if there is no such upload."""
        s3 = self._s3()
        parts = []
        try:
            for page in s3.get_paginator("list_parts").paginate(Bucket=self.name, Key=key, UploadId=upload_id):
                parts += [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in page.get("Parts", [])]
        except Exception as exc:
            if error_code(exc) in ("NoSuchUpload", "404", "NotFound"):
                return False
            raise
        if not parts:
            return False
        s3.complete_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        return True

    def write(self, key: str, chunks: Iterable[bytes], *, part_size: int) -> int:
        """Write an object from an iterable of byte chunks, in parts of ``part_size`` when it is larger than
        one; returns its size. Aborts on any error."""
        with MultipartWriter(self, key, part_size) as writer:
            for chunk in chunks:
                writer.write(chunk)
            writer.commit()
        return writer.size

    # ---- downloads in passes (steps/web_download.py): each pass adds parts to one multipart upload,
    # completed with complete_multipart (ListParts) by the last pass; re-sending a part number replaces it
    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> None:
        self._s3().upload_part(Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=part_number, Body=data)


class MultipartWriter:
    """Buffer up to one part, upload parts in the background, at most PARTS_IN_FLIGHT at once. Signs as
    the bucket's other calls do: in its region, with its credentials."""

    def __init__(self, bucket: Bucket, key: str, part_size: int):
        self.bucket, self.key, self.part_size = bucket.name, key, part_size
        self.s3 = bucket._s3()
        self.size = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[Future] = []
        self._slots = threading.BoundedSemaphore(PARTS_IN_FLIGHT)
        self._pool: ThreadPoolExecutor | None = None
        self._done = False

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if not self._buffer and len(data) == self.part_size:
            # the common case (reads come in part-sized chunks): send the chunk itself, no copy
            self._send(bytes(data))
            return
        self._buffer += data
        while len(self._buffer) >= self.part_size:
            self._slots.acquire()  # wait for a free slot before building the next part
            part = bytes(self._buffer[: self.part_size])
            del self._buffer[: self.part_size]
            self._send(part, slot_taken=True)

    def _send(self, part: bytes, slot_taken: bool = False) -> None:
        s3 = self.s3
        if self._upload_id is None:
            self._upload_id = s3.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
            self._pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="s3-part")
        failed = next((f for f in self._parts if f.done() and f.exception()), None)
        if failed is not None:
            if slot_taken:
                self._slots.release()
            raise failed.exception()  # stop reading as soon as a part upload failed
        number = len(self._parts) + 1
        if not slot_taken:
            self._slots.acquire()  # back-pressure: memory stays at a few parts whatever the image size
        future = self._pool.submit(self._upload_part, number, part)
        future.add_done_callback(lambda _: self._slots.release())
        self._parts.append(future)

    def _upload_part(self, number: int, part: bytes) -> dict:
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def commit(self) -> None:
        s3 = self.s3
        if self._upload_id is None:
            # small object: one plain PUT
            s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
        else:
            if self._buffer:
                self._send(bytes(self._buffer))
            parts = [f.result() for f in self._parts]
            s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": parts}
            )
            self._pool.shutdown()
        self._buffer = bytearray()
        self._done = True

    def abort(self) -> None:
        self._done = True
        if self._upload_id is not None:
            for future in self._parts:
                future.cancel()
            self._pool.shutdown(wait=True)
            try:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            except Exception:  # the original error matters more; lifecycle rules catch leftovers
                pass

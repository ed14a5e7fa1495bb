"""Create or take an image, send a file through presigned multipart URLs (resumable), import it, wait."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from image_import_client.api import ApiError, ImageApi
from image_import_client.parts import MiB, Part, check_offer, missing_parts
from image_import_client.state import FileIdentity, StateStore, UploadState
from image_import_client.transfer import PartRefused, Progress, send_parts

DEFAULT_PARALLEL = 4


class UploadError(RuntimeError):
    """The upload or the import did not succeed; the message says why and what to do."""


@dataclass
class UploadResult:
    image: dict[str, Any]  # as GET /v2/images/<id> answered last
    parts_total: int = 0
    parts_sent: int = 0  # by this run
    parts_resumed: int = 0  # recorded as stored by an earlier run, not sent again
    bytes_sent: int = 0
    seconds: float = 0.0  # sending the parts

    @property
    def rate(self) -> float:
        """MiB/s of this run's part uploads."""
        return self.bytes_sent / MiB / self.seconds if self.seconds else 0.0


def upload_image(
    path: str | os.PathLike,
    api: ImageApi,
    *,
    image_id: str | None = None,
    image_fields: dict[str, Any] | None = None,
    parallel: int = DEFAULT_PARALLEL,
    start_import: bool = True,
    wait: bool = True,
    timeout: float | None = None,
    poll: float = 1.0,
    state: StateStore | None = None,
    progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> UploadResult:
    """Upload ``path`` as the data of image ``image_id`` (or of a new image of ``image_fields``), then
    import it by glance-direct (``start_import``) and wait until it is active (``wait``).

    Run again after an interruption, with the same file, it sends only the parts not yet stored (a
    new image is not created again: the earlier run's image is found from the state kept for the file).
    """
    if parallel < 1:
        raise ValueError("parallel must be at least 1")
    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    store = state or StateStore()
    file = FileIdentity.of(path)
    recorded = store.load(api.endpoint, file)
    if recorded is not None and image_id is not None and recorded.image_id != image_id:
        recorded = None  # that record is of another image
    image = _image_to_fill(api, recorded, image_id, image_fields, say)
    if recorded is not None and recorded.image_id != image["id"]:
        recorded = None
    known_tasks = {task["id"] for task in api.tasks(image["id"])}
    result = UploadResult(image)

    # with the import asked for in the upload request, the S3 event starts it once the data is staged
    import_by_event = bool(recorded and recorded.completed and recorded.start_import)
    if image["status"] == "queued" and not (recorded and recorded.completed):
        _send(api, store, file, image["id"], recorded, start_import, parallel, progress, say, result)
        import_by_event = start_import
    elif image["status"] == "queued":
        say(f"image {image['id']}: the upload was completed by an earlier run; waiting for S3's event to stage it")
    elif image["status"] not in ("uploading", "importing", "active"):
        raise UploadError(f"image {image['id']} is {image['status']}: it cannot take data")

    if not wait:
        result.image = api.get_image(image["id"])
        return result
    image = _wait(api, image["id"], start_import, import_by_event, known_tasks, timeout, poll, say)
    store.forget(api.endpoint, file)
    result.image = image
    return result


def _image_to_fill(api, recorded, image_id, image_fields, say) -> dict[str, Any]:
    if recorded is not None:
        try:
            image = api.get_image(recorded.image_id)
        except ApiError as error:
            if error.status != 404:
                raise
        else:
            if image_id is None:
                say(f"image {image['id']}: resuming the upload of an earlier run (not creating another image)")
            return image
    if image_id is not None:
        return api.get_image(image_id)
    image = api.create_image(image_fields or {})
    say(f"image {image['id']}: created")
    return image


def _send(api, store, file, image_id, recorded, start_import, parallel, progress, say, result) -> None:
    upload = recorded
    if upload is not None and not upload.urls_valid():
        upload = _resigned(api, store, upload, say, "the upload URLs of the earlier run have expired")
    fresh_offer_allowed = upload is not None  # a resumed upload may be gone (replaced, swept): one fresh start
    sent_when_resigned = None  # parts sent when URLs were last re-signed in this run: no progress, no loop
    while True:
        if upload is None:
            upload = _new_upload(api, store, file, image_id, start_import)
        parts = check_offer(file.size, upload.part_size, list(upload.urls))
        todo = missing_parts(parts, set(upload.done))
        result.parts_total, result.parts_resumed = len(parts), len(parts) - len(todo)
        if result.parts_resumed:
            say(f"resuming: {result.parts_resumed} of {len(parts)} parts were stored by an earlier run")
        say(
            f"uploading {len(todo)} of {len(parts)} parts of {upload.part_size / MiB:g} MiB "
            f"({sum(p.length for p in todo) / MiB:.1f} MiB), {parallel} at a time"
        )
        try:
            _send_parts(store, file, upload, todo, parallel, progress, result)
            break
        except PartRefused as refused:
            if refused.upload_gone and fresh_offer_allowed:
                say(f"the earlier run's multipart upload no longer exists ({refused}): starting this upload again")
                upload, fresh_offer_allowed = None, False
                continue
            if refused.expired and sent_when_resigned != result.parts_sent:
                # an upload longer than the URLs' lifetime: new URLs for the same upload, the rest goes on
                sent_when_resigned = result.parts_sent
                upload = _resigned(api, store, upload, say, "the upload URLs expired during the upload")
                if upload is None:
                    fresh_offer_allowed = False
                continue
            if refused.expired:
                raise UploadError(
                    f"{refused}. The URLs last {upload.expires_in} s ([direct_upload] url_lifetime): run the same "
                    "command again to send the parts that are missing, or ask the operator for a longer lifetime"
                ) from None
            raise UploadError(str(refused)) from None
    if FileIdentity.of(file.path) != file:
        store.forget(api.endpoint, file)
        raise UploadError(f"{file.path} changed while it was being uploaded: run the command again")
    api.upload_complete(image_id, upload.upload_id)
    upload.completed = True
    store.save(upload)
    say(f"uploaded: {result.bytes_sent / MiB:.1f} MiB in {result.seconds:.1f} s ({result.rate:.1f} MiB/s)")


def _resigned(api, store, upload: UploadState, say, why: str) -> UploadState | None:
    """The same multipart upload with freshly signed URLs, its done parts as S3 holds them; None if it is
    gone (replaced, completed or swept): the caller starts a new one."""
    try:
        offer = api.resume_upload_urls(upload.image_id, upload.upload_id)
    except ApiError as refused:
        if refused.status in (404, 409):
            say(f"{why} and the upload can no longer be resumed ({refused}): starting this upload again")
            return None
        raise
    say(f"{why}: the service signed new ones for the same upload")
    multipart = offer["multipart"]
    upload.urls = {part["part_number"]: part["url"] for part in multipart["parts"]}
    upload.issued_at, upload.expires_in = time.time(), int(offer["expires_in"])
    held = {part["part_number"]: part["size"] for part in multipart.get("parts_received", [])}
    # S3's word on which parts arrived: a part recorded here but not held is sent again, and the reverse
    upload.done = {n: upload.done.get(n, "") for n in held}
    store.save(upload)
    return upload


def _new_upload(api, store, file, image_id, start_import) -> UploadState:
    offer = api.upload_urls(image_id, file.size, start_import)
    multipart = offer["multipart"]
    upload = UploadState(
        endpoint=api.endpoint,
        file=file,
        image_id=image_id,
        upload_id=multipart["upload_id"],
        part_size=multipart["part_size"],
        start_import=start_import,
        issued_at=time.time(),
        expires_in=int(offer["expires_in"]),
        urls={part["part_number"]: part["url"] for part in multipart["parts"]},
    )
    store.save(upload)  # before the first part: a kill from here on resumes this upload
    return upload


def _send_parts(store, file, upload: UploadState, todo: list[Part], parallel, progress, result) -> None:
    done_bytes = file.size - sum(p.length for p in todo)
    bar = Progress(file.size, done_bytes, enabled=progress)
    started = time.monotonic()

    def record(part: Part, etag: str) -> None:
        upload.done[part.number] = etag
        store.save(upload)
        result.parts_sent += 1
        result.bytes_sent += part.length

    try:
        send_parts(file.path, todo, upload.urls, parallel=parallel, progress=bar, on_done=record)
    finally:
        result.seconds += time.monotonic() - started
        bar.finish()


def _wait(api, image_id, start_import, import_by_event, known_tasks, timeout, poll, say) -> dict[str, Any]:
    """Until the image is active (imported) or, without an import, uploading (staged)."""
    wanted = "active" if start_import else "uploading"
    deadline = None if not timeout else time.monotonic() + timeout
    last, import_asked = None, import_by_event
    while True:
        image = api.get_image(image_id)
        if image["status"] != last:
            say(f"image {image_id}: {image['status']}")
            last = image["status"]
        if image["status"] == wanted or image["status"] == "active":
            return image
        if image["status"] in ("killed", "deleted", "pending_delete", "deactivated"):
            raise UploadError(f"image {image_id} is {image['status']}")
        if start_import and image["status"] == "uploading":
            failed = _failed_task(api, image_id, known_tasks)
            if failed is not None:
                raise UploadError(f"the import of image {image_id} failed: {failed.get('message') or failed['id']}")
            if not import_asked and not _running_task(api, image_id):
                # staged, and no import was asked of the S3 event (or a run found the image staged already)
                try:
                    api.start_import(image_id)
                    say(f"image {image_id}: glance-direct import started")
                except ApiError as error:
                    if error.status != 409:  # 409: an import started meanwhile
                        raise
                import_asked = True
        if deadline is not None and time.monotonic() > deadline:
            raise UploadError(f"image {image_id} is still {image['status']} after {timeout:g} s")
        time.sleep(poll)


def _failed_task(api, image_id, known_tasks) -> dict[str, Any] | None:
    return next(
        (t for t in api.tasks(image_id) if t["id"] not in known_tasks and t.get("status") == "failure"),
        None,
    )


def _running_task(api, image_id) -> bool:
    return any(t.get("status") in ("pending", "processing") for t in api.tasks(image_id))

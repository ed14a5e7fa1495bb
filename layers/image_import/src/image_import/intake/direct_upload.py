"""Direct uploads: presigned URLs into the staging bucket, and the S3 event that stages what arrives.

API Gateway and Lambda carry a few MB per request; real images are gigabytes. So the owner of a
``queued`` image asks for presigned URLs (one PUT, or a multipart upload), writes ``uploads/<id>``
straight into S3, and the ObjectCreated event does what PUT /stage does: ``queued -> uploading`` with
the size recorded, then, if the uploader asked for it, the glance-direct import as the uploader.

A presigned URL can be used again until it expires, so the event does not stage ``uploads/<id>``
itself: it copies that object server-side to ``staging/<id>.upload.<copy id>`` (only the service writes there),
pinned on the ETag the event saw, and removes the user's object. What is verified and imported is
that copy; a later PUT through the same URL is a new object whose own event finds the image no
longer queued and removes it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    GlanceError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)
from image_import.images.catalog import get_image
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.image import UploadRequest
from image_import.models.quota import IMAGE_COUNT_UPLOADING, IMAGE_STAGE_TOTAL, OverLimit
from image_import.models.time import utcnow
from image_import.policy import access, preconditions
from image_import.quotas import admission
from image_import.quotas.admission import in_mib
from image_import.settings import Settings
from image_import.transfer.layout import UPLOAD_PREFIX, image_id_of_upload, is_received_key, received_key, upload_key
from image_import.transfer.parts import COPY_PART_SIZE, part_size_for
from image_import.workflow.start import NOT_STARTED, start_import

log = Logger(child=True)

SINGLE_PUT_MAX = 5 * 1024**3  # S3's largest single PUT
MULTIPART_THRESHOLD = 100 * 1024 * 1024  # above this, multipart (parallel, resumable parts)
GLANCE_DIRECT = {"method": {"name": "glance-direct"}}


@dataclass
class UploadOffer:
    """What the owner needs to write the data: one URL, or a multipart upload's part URLs."""

    image_id: str
    key: str
    size: int
    start_import: bool
    expires_in: int
    url: str | None = None
    upload_id: str | None = None
    part_size: int | None = None
    part_urls: list[str] = field(default_factory=list)
    # a resumed multipart upload: the parts S3 already holds (part number -> size)
    parts_received: dict[int, int] | None = None


def part_lengths(size: int, part_size: int) -> list[int]:
    """The length of each part: ``part_size``, the last one the rest (one empty part for an empty image)."""
    if size == 0:
        return [0]
    return [min(part_size, size - first) for first in range(0, size, part_size)]


def request_upload(context: RequestContext, image_id: str, body: Any, settings: Settings, ports: Ports) -> UploadOffer:
    """Hand the owner of a queued image presigned URLs to ``uploads/<id>``; remember who asked and why.

    ``{"upload_id": ...}`` (the image's multipart upload in progress) re-signs that upload's part URLs
    instead and says which parts S3 already holds: an upload outlives its URLs' lifetime.
    """
    preconditions.require_available(preconditions.UPLOAD_URLS, settings)
    if isinstance(body, dict) and "upload_id" in body:
        return _resume_upload(context, image_id, body, settings, ports)
    size, start_import, multipart = _validate_request(body)
    if size > settings.image_size_cap:
        raise RequestEntityTooLarge(
            f"Image exceeds the storage quota: the size cap is {settings.image_size_cap} bytes."
        )
    # what the staging will claim when the upload arrives, checked now so that a user learns it first
    admission.precheck(
        settings, ports.usage, context.project_id, (IMAGE_STAGE_TOTAL, in_mib(size)), (IMAGE_COUNT_UPLOADING, 1)
    )
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "modify_image", image, settings)  # as staging: Glance's rule for stage
    # with the import asked for, the import's formats too
    preconditions.check(preconditions.UPLOAD_URLS_THEN_IMPORT if start_import else preconditions.UPLOAD_URLS, image)

    key = upload_key(image_id)
    lifetime = settings.upload_url_lifetime
    offer = UploadOffer(image_id, key, size, start_import, lifetime)
    if multipart is None:
        multipart = size > MULTIPART_THRESHOLD
    # every URL is signed with the length it may carry: S3 refuses a PUT of another length
    if multipart or size > SINGLE_PUT_MAX:
        offer.upload_id = ports.staging.start_multipart(key)
        offer.part_size = part_size_for(size)
        offer.part_urls = [
            ports.staging.presigned_part(key, offer.upload_id, n, lifetime, length)
            for n, length in enumerate(part_lengths(size, offer.part_size), start=1)
        ]
    else:
        offer.url = ports.staging.presigned_put(key, lifetime, size)

    previous = image.upload
    image.upload = UploadRequest(
        start_import=start_import, context=context, size=size, requested_at=utcnow(), upload_id=offer.upload_id
    )
    image.updated_at = utcnow()
    try:
        ports.images.save(image)
    except ConcurrentUpdate:
        if offer.upload_id:
            ports.staging.abort_multipart(key, offer.upload_id)
        raise Conflict(f"Image {image_id} was changed by another request; ask for upload URLs again.") from None
    if previous is not None and previous.upload_id:
        ports.staging.abort_multipart(key, previous.upload_id)  # the newest request replaces older ones
    return offer


def _resume_upload(context: RequestContext, image_id: str, body: dict, settings: Settings, ports: Ports) -> UploadOffer:
    upload_id = body["upload_id"]
    if not isinstance(upload_id, str) or set(body) != {"upload_id"}:
        raise BadRequest("To resume an upload send only 'upload_id' (a string, from the upload-urls response).")
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "modify_image", image, settings)
    preconditions.check(preconditions.UPLOAD_URLS, image)
    request = image.upload
    if request is None or request.upload_id != upload_id or request.size is None:
        raise Conflict(f"Image {image_id} has no multipart upload {upload_id!r} in progress.")
    key = upload_key(image_id)
    received = ports.staging.received_parts(key, upload_id)
    if received is None:
        raise Conflict(f"Multipart upload {upload_id!r} no longer exists; ask for upload URLs again.")
    lifetime = settings.upload_url_lifetime
    offer = UploadOffer(image_id, key, request.size, request.start_import, lifetime, upload_id=upload_id)
    offer.part_size = part_size_for(request.size)
    offer.part_urls = [
        ports.staging.presigned_part(key, upload_id, n, lifetime, length)
        for n, length in enumerate(part_lengths(request.size, offer.part_size), start=1)
    ]
    offer.parts_received = received
    return offer


def _validate_request(body: Any) -> tuple[int, bool, bool | None]:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest("Unexpected body type. Expected dict.")
    size = body.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise BadRequest("'size' (the image size in bytes, an integer >= 0) is required.")
    start_import = body.get("import", False)
    multipart = body.get("multipart")
    if not isinstance(start_import, bool):
        raise BadRequest(f"'import' must be a boolean, got {start_import!r}")
    if multipart is not None and not isinstance(multipart, bool):
        raise BadRequest(f"'multipart' must be a boolean, got {multipart!r}")
    if unknown := sorted(set(body) - {"size", "import", "multipart"}):
        raise BadRequest(f"Unknown field(s) in upload request: {', '.join(unknown)}")
    return size, start_import, multipart


def complete_upload(context: RequestContext, image_id: str, body: Any, settings: Settings, ports: Ports) -> None:
    """Complete the image's multipart upload server-side; the ObjectCreated event then stages it."""
    preconditions.require_available(preconditions.UPLOAD_COMPLETE, settings)
    if not isinstance(body, dict) or not isinstance(body.get("upload_id"), str):
        raise BadRequest("'upload_id' (from the upload-urls response) is required.")
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "modify_image", image, settings)  # as staging: Glance's rule for stage
    preconditions.check(preconditions.UPLOAD_COMPLETE, image)
    if image.upload is None or image.upload.upload_id != body["upload_id"]:
        raise Conflict(f"Image {image_id} has no multipart upload {body['upload_id']!r} in progress.")
    if not ports.staging.complete_multipart(upload_key(image_id), body["upload_id"]):
        raise Conflict(f"Multipart upload {body['upload_id']!r} has no parts or no longer exists.")


# ---------------------------------------------------------------- the S3 event
STAGED, IMPORTING, DUPLICATE, GONE, REMOVED = "staged", "import started", "duplicate", "gone", "removed"
IGNORED, SUPERSEDED = "ignored", "superseded"


class UploadEvent(NamedTuple):
    """One ObjectCreated record: the SQS message it came in, the key, the ETag seen."""

    message_id: str | None
    key: str
    etag: str | None


def upload_keys(event: dict[str, Any]) -> Iterable[UploadEvent]:
    """Every ObjectCreated record of the S3 events in these upload-queue messages."""
    for record in event.get("Records", []):
        if "body" not in record:  # not a queue message: S3 reaches us through the queue only
            log.warning("ignored a record that is not an upload-queue message", extra={"keys": sorted(record)})
            continue
        try:
            body = json.loads(record["body"])
        except ValueError:
            log.warning("ignored a message that is not an S3 event", extra={"body": record["body"][:200]})
            continue
        yield from (UploadEvent(record.get("messageId"), key, etag) for key, etag in _created_objects(body))


def _created_objects(s3_event: dict[str, Any]) -> list[tuple[str, str | None]]:
    # s3:TestEvent (sent when notifications are set up) has no Records; keys arrive URL-encoded (quote_plus)
    return [
        (unquote_plus(r["s3"]["object"]["key"]), (r["s3"]["object"].get("eTag") or "").strip('"') or None)
        for r in s3_event.get("Records", [])
        if str(r.get("eventName", "")).startswith("ObjectCreated")
    ]


def receive_upload(key: str, settings: Settings, ports: Ports, etag: str | None = None) -> str:
    """Stage an object that arrived under ``uploads/``: what PUT /stage does, once per object.

    ``etag`` is the object's ETag as the event saw it (None: whatever the object is now). What gets
    staged is a server-side copy under ``staging/`` pinned on that ETag; the user's object is removed
    once the import (if asked) has started. An object replaced since its event (a second PUT through
    the URL) stages nothing: the replacing PUT's own event decides. Anything that is not the data of a
    known ``queued`` image is removed, never imported. Replayed or duplicate events find the image
    already staged from this object and start nothing again.
    """
    if not key.startswith(UPLOAD_PREFIX):  # a misrouted event: outside uploads/ is the service's own data
        log.warning("ignored an event for an object outside the upload prefix", extra={"key": key})
        return IGNORED
    head = ports.staging.head(key)
    image_id = image_id_of_upload(key)
    if image_id is None:
        return GONE if head is None else _remove(ports, key, "its key is not uploads/<image id>")
    current = head[1] if head else None
    seen = etag or current  # the object this event is about
    if seen is None:
        return GONE  # a stale or replayed event: the object was already staged or removed
    image = ports.images.get(image_id)
    if _staged_from(image_id, image, seen):  # a replay, or a retry after the import could not start
        return _replayed(ports, key if current == seen else None, image, settings)
    if head is None:
        return GONE
    if seen != current:
        return _superseded(key, image_id, f"the event saw ETag {seen}, the object now has {current}")
    size = head[0]
    target = received_key(image_id, uuid.uuid4().hex[:12])  # this copy's own key: no other copy can write it

    def refusal(image: Image | None) -> str:
        """Why the object is not staged ("": stage it), on the image as last read."""
        if image is None or image.status != "queued":
            return f"image {image_id} is {'unknown' if image is None else image.status}, not queued"
        if image.upload is None:
            return f"no upload URLs were asked for image {image_id}"
        if size > settings.image_size_cap:
            return f"{size} bytes is over the image size cap of {settings.image_size_cap}"
        if image.upload.size != size:
            return f"{size} bytes arrived but {image.upload.size} were announced"
        return ""

    if reason := refusal(image):
        return _remove(ports, key, reason)
    if not ports.staging.copy(key, target, seen, size, part_size=part_size_for(size, COPY_PART_SIZE)):
        return _superseded(key, image_id, "it changed while it was being copied")

    raced, reason = False, ""

    def stage(image: Image | None) -> bool:
        nonlocal raced, reason
        raced, reason = _staged_from(image_id, image, seen), refusal(image)
        if raced or reason:
            return False
        assert image is not None and image.upload is not None
        lifecycle.move(image, "stage")
        image.size, image.staged_key, image.updated_at = size, target, utcnow()
        image.upload.etag = seen
        return True

    claims = admission.for_stage(settings, image.owner if image else None, size)  # exact, as PUT /stage
    try:
        staged = ports.images.edit(image_id, stage, attempts=8, claims=claims)  # of two deliveries, one stages
    except ConcurrentUpdate:
        ports.staging.delete(target)
        raise ConcurrentUpdate(f"Image {image_id} kept changing; the upload event will be retried.") from None
    except OverLimit as over:
        ports.staging.delete(target)
        return _remove(ports, key, admission.message(over))  # the image stays queued: upload again later
    if staged is None:
        ports.staging.delete(target)  # never staged: another delivery's copy was, or the image moved on
        if raced:
            return _replayed(ports, key, ports.images.get(image_id), settings)
        return _remove(ports, key, reason)
    log.info("staged a direct upload", extra={"image_id": image_id, "size": size, "etag": seen})
    notifications.image_event("image.update", staged, ports, settings)  # uploading, as a PUT /stage
    outcome = _import_if_asked(staged, settings, ports, replayed=False)
    ports.staging.delete(key)  # after the import started: a retry of this event still finds what to start
    return outcome


def _staged_from(image_id: str, image: Image | None, etag: str) -> bool:
    """Whether the image is staged from a copy of the uploaded object whose ETag is ``etag``."""
    return (
        image is not None
        and image.status in (lifecycle.UPLOADING, lifecycle.IMPORTING)
        and is_received_key(image_id, image.staged_key)
        and image.upload is not None
        and image.upload.etag == etag
    )


def _replayed(ports: Ports, key: str | None, image: Image | None, settings: Settings) -> str:
    """The object is staged already: import if asked and not yet started, then remove the user's
    object (``key``; None: it is gone or is another object now, whose own event decides)."""
    outcome = GONE if image is None else _import_if_asked(image, settings, ports, replayed=True)
    if key is not None:
        ports.staging.delete(key)  # its bytes are in the staged copy
    return outcome


def _superseded(key: str, image_id: str, why: str) -> str:
    log.warning(
        f"did not stage {key}: it was replaced since this event ({why}); the replacing upload's own event decides",
        extra={"key": key, "image_id": image_id},
    )
    return SUPERSEDED


def _remove(ports: Ports, key: str, reason: str) -> str:
    ports.staging.delete(key)
    log.warning(f"removed uploaded object {key}: {reason}", extra={"key": key})
    return REMOVED


def _import_if_asked(image: Image, settings: Settings, ports: Ports, *, replayed: bool) -> str:
    intent = image.upload
    if intent is None or not intent.start_import:
        return DUPLICATE if replayed else STAGED
    if image.status != "uploading" or image.import_lock is not None:
        return DUPLICATE
    # the task carries the upload request's id: one import per upload request, however often the event comes
    # (a start that failed before anything ran does not count: retrying it is the point)
    if any(
        task.request_id == intent.context.request_id and not (task.message or "").startswith(NOT_STARTED)
        for task in ports.tasks.for_image(image.id)
    ):
        return DUPLICATE
    try:
        start_import(intent.context, image.id, GLANCE_DIRECT, settings, ports)
    except ServiceUnavailable:
        raise  # nothing started: let the event be retried
    except GlanceError as exc:  # e.g. another import won the lock, or the uploader lost access
        log.warning(f"staged but not imported: {exc.explanation}", extra={"image_id": image.id})
        return DUPLICATE if isinstance(exc, Conflict) else STAGED
    log.info("started the import", extra={"image_id": image.id, "user_id": intent.context.user_id})
    return IMPORTING


def receive_uploads(event: dict[str, Any], settings: Settings, ports: Ports) -> None:
    """Every upload an S3 event carries (itself, or one SQS message of it); raises the first failure, after
    trying them all, so that the event or message is retried (the batching of SQS messages is the edge's)."""
    failure: Exception | None = None
    for upload in upload_keys(event):
        try:
            outcome = receive_upload(upload.key, settings, ports, etag=upload.etag)
            log.info("upload event handled", extra={"key": upload.key, "outcome": outcome})
        except Exception as exc:  # one bad object must not hold back the others
            log.exception("upload event failed; it will be retried", extra={"key": upload.key})
            failure = failure or exc
    if failure is not None:
        raise failure

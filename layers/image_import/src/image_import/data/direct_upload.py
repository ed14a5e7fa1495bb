"""Direct uploads: presigned URLs into the staging bucket, and the S3 event that stages what arrives.

API Gateway and Lambda carry a few MB per request; real images are gigabytes. So the owner of a
``queued`` image asks for presigned URLs (one PUT, or a multipart upload), writes ``uploads/<id>``
straight into S3, and the ObjectCreated event does what PUT /stage does: ``queued -> uploading`` with
the size recorded, then, if the uploader asked for it, the glance-direct import as the uploader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from image_import.adapters.ports import Ports
from image_import.data.layout import UPLOAD_PREFIX, image_id_of_upload, upload_key
from image_import.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    GlanceError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)
from image_import.images import lifecycle
from image_import.images.catalog import get_image
from image_import.models import Image, RequestContext
from image_import.models.image import UploadRequest
from image_import.models.time import utcnow
from image_import.policy import access, preconditions
from image_import.settings import Settings
from image_import.workflow.start import NOT_STARTED, start_import

log = Logger(child=True)

URL_EXPIRES_IN = 3600  # seconds a presigned URL stays valid
SINGLE_PUT_MAX = 5 * 1024**3  # S3's largest single PUT
MULTIPART_THRESHOLD = 100 * 1024 * 1024  # above this, multipart (parallel, resumable parts)
MIN_PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB (all parts but the last)
MAX_PARTS = 10_000  # S3's limit
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


def part_size_for(size: int) -> int:
    """The smallest whole-MiB part size >= 8 MiB that fits ``size`` in S3's 10,000 parts."""
    mib = 1024 * 1024
    needed = -(-size // MAX_PARTS)
    return max(MIN_PART_SIZE, -(-needed // mib) * mib)


def request_upload(context: RequestContext, image_id: str, body: Any, settings: Settings, ports: Ports) -> UploadOffer:
    """Hand the owner of a queued image presigned URLs to ``uploads/<id>``; remember who asked and why."""
    preconditions.require_available(preconditions.UPLOAD_URLS, settings)
    size, start_import, multipart = _validate_request(body)
    if size > settings.image_size_cap:
        raise RequestEntityTooLarge(
            f"Image exceeds the storage quota: the size cap is {settings.image_size_cap} bytes."
        )
    image = get_image(context, image_id, ports, settings)
    access.authorize(context, "modify_image", image, settings)  # as staging: Glance's rule for stage
    # with the import asked for, the import's formats too
    preconditions.check(preconditions.UPLOAD_URLS_THEN_IMPORT if start_import else preconditions.UPLOAD_URLS, image)

    key = upload_key(image_id)
    offer = UploadOffer(image_id, key, size, start_import, URL_EXPIRES_IN)
    if multipart is None:
        multipart = size > MULTIPART_THRESHOLD
    if multipart or size > SINGLE_PUT_MAX:
        offer.upload_id = ports.staging.start_multipart(key)
        offer.part_size = part_size_for(size)
        count = max(1, -(-size // offer.part_size))
        offer.part_urls = [
            ports.staging.presigned_part(key, offer.upload_id, n, URL_EXPIRES_IN) for n in range(1, count + 1)
        ]
    else:
        offer.url = ports.staging.presigned_put(key, URL_EXPIRES_IN)

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
IGNORED = "ignored"


def upload_keys(event: dict[str, Any]) -> Iterable[tuple[str | None, str]]:
    """(SQS message id or None, object key) of every ObjectCreated record, from S3 events direct or via SQS."""
    for record in event.get("Records", []):
        if "s3" in record:
            yield from ((None, key) for key in _created_keys({"Records": [record]}))
        elif "body" in record:
            try:
                body = json.loads(record["body"])
            except ValueError:
                log.warning("ignored a message that is not an S3 event", extra={"body": record["body"][:200]})
                continue
            yield from ((record.get("messageId"), key) for key in _created_keys(body))


def _created_keys(s3_event: dict[str, Any]) -> list[str]:
    # s3:TestEvent (sent when notifications are set up) has no Records; keys arrive URL-encoded (quote_plus)
    return [
        unquote_plus(r["s3"]["object"]["key"])
        for r in s3_event.get("Records", [])
        if str(r.get("eventName", "")).startswith("ObjectCreated")
    ]


def receive_upload(key: str, settings: Settings, ports: Ports) -> str:
    """Stage an object that arrived under ``uploads/``: exactly what PUT /stage does, once per object.

    Anything that is not the data of a known ``queued`` image is removed, never imported. Replayed
    or duplicate events find the image already staged from this key and start nothing again.
    """
    if not key.startswith(UPLOAD_PREFIX):  # a misrouted event: outside uploads/ is the service's own data
        log.warning("ignored an event for an object outside the upload prefix", extra={"key": key})
        return IGNORED
    size = ports.staging.size(key)
    if size is None:
        return GONE  # a stale or replayed event: the object was already imported or removed
    image_id = image_id_of_upload(key)
    if image_id is None:
        return _remove(ports, key, "its key is not uploads/<image id>")
    # what to do instead of staging, decided on the image as last read: import it (a replay) or remove the object
    replayed: Image | None = None
    refusal = ""

    def stage(image: Image | None) -> bool:
        nonlocal replayed, refusal
        replayed, refusal = None, ""
        if image is not None and image.staged_key == key and image.status in ("uploading", "importing"):
            replayed = image
        elif image is None or image.status != "queued":
            refusal = f"image {image_id} is {'unknown' if image is None else image.status}, not queued"
        elif size > settings.image_size_cap:
            refusal = f"{size} bytes is over the image size cap of {settings.image_size_cap}"
        elif image.upload is not None and image.upload.size != size:
            refusal = f"{size} bytes arrived but {image.upload.size} were announced"
        else:
            lifecycle.move(image, "stage")
            image.size, image.staged_key, image.updated_at = size, key, utcnow()
            return True
        return False

    try:
        staged = ports.images.edit(image_id, stage, attempts=8)  # of two deliveries of one event, one stages
    except ConcurrentUpdate:
        raise ConcurrentUpdate(f"Image {image_id} kept changing; the upload event will be retried.") from None
    if replayed is not None:
        return _import_if_asked(replayed, settings, ports, replayed=True)
    if staged is None:
        return _remove(ports, key, refusal)
    log.info("staged a direct upload", extra={"image_id": image_id, "size": size})
    return _import_if_asked(staged, settings, ports, replayed=False)


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
    for _, key in upload_keys(event):
        try:
            outcome = receive_upload(key, settings, ports)
            log.info("upload event handled", extra={"key": key, "outcome": outcome})
        except Exception as exc:  # one bad object must not hold back the others
            log.exception("upload event failed; it will be retried", extra={"key": key})
            failure = failure or exc
    if failure is not None:
        raise failure

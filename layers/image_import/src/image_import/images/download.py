"""``GET /v2/images/{id}/file``: what to answer, as Glance does, within Lambda's response limit.

Full data is 200 with Content-Length; a single ``Range`` (or, as Glance still honours, a request
``Content-Range``) is 206; both carry Content-MD5, the whole image's hex MD5 (Glance's ``checksum``),
as Glance 33 does; no data is 204. Bodies up to ``max_api_download_size`` travel through the API;
anything larger is a 303 to a short-lived presigned URL of the store object (S3 honours the same Range header there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, Forbidden, GlanceError
from image_import.images.catalog import get_image
from image_import.models import RequestContext
from image_import.policy import access
from image_import.settings import Settings
from image_import.stores.buckets import image_buckets
from image_import.transfer.layout import store_key

PRESIGNED_URL_SECONDS = 300
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class RangeNotSatisfiable(GlanceError):
    status, title = 416, "Requested Range Not Satisfiable"


@dataclass
class Download:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def download_image(
    context: RequestContext,
    image_id: str,
    range_header: str | None,
    content_range_header: str | None,
    settings: Settings,
    ports: Ports,
) -> Download:
    image = get_image(context, image_id, ports, settings)  # 404 when the caller cannot see it
    access.authorize(context, "download_image", image, settings)
    if image.status == "deactivated" and not context.is_admin:
        raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
    size = image.size
    if image.status not in ("active", "deactivated") or size is None:  # deactivated: admins only, above
        return Download(204)
    key = store_key(image_id)

    span = _requested_span(range_header, content_range_header, size)
    if span is None:
        start, end, status = 0, size - 1, 200
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
    else:
        start, end = span
        status = 206
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(end - start + 1),
            "Content-Range": f"bytes {start}-{end}/{size}",
        }
    if image.checksum:  # the whole image's MD5 on a range too, as Glance 33 sends it
        headers["Content-MD5"] = image.checksum

    store = image_buckets(image.stores, settings, ports)[0]  # multi-store: its heaviest store
    if end - start + 1 > settings.max_api_download_size:
        # beyond Lambda's response limit: the client follows to S3, resending its Range header
        return Download(303, {"Location": store.presigned_get(key, PRESIGNED_URL_SECONDS)})
    body = store.read(key, start, end) if size else b""
    return Download(status, headers, body)


def _requested_span(range_header: str | None, content_range_header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of the requested range, None for the whole image; 400/416 as Glance."""
    unsatisfiable = RangeNotSatisfiable(
        "The requested range is not satisfiable.", headers={"Content-Range": f"bytes */{size}"}
    )
    if range_header:
        text = range_header.strip()
        if "," in text:
            raise BadRequest("Multiple ranges are not supported; request a single range.")
        match = _RANGE.match(text)
        if not match or not (match[1] or match[2]):
            raise unsatisfiable
        if match[1]:
            start = int(match[1])
            end = int(match[2]) if match[2] else size - 1
            if start > end or start >= size:
                raise unsatisfiable
            return start, min(end, size - 1)
        length = int(match[2])  # bytes=-n: the last n bytes
        if length == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - length), size - 1
    if content_range_header:  # the pre-Range way some old clients ask for a part
        match = _CONTENT_RANGE.match(content_range_header.strip())
        if not match:
            raise unsatisfiable
        start, end = int(match[1]), int(match[2])
        if start > end or start >= size:
            raise unsatisfiable
        return start, min(end, size - 1)
    return None

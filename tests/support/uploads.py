"""Direct uploads against fakes: an image whose owner PUT its data to the upload URL (unit tier)."""

from __future__ import annotations

from image_import.images.catalog import create_image
from image_import.intake import direct_upload
from image_import.models import RequestContext
from image_import.transfer.layout import upload_key

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"], request_id="req-upload")


def new_image(ports, settings, **fields):
    body = {"disk_format": "raw", "container_format": "bare", **fields}
    return create_image(MEMBER, body, settings, ports).id


def uploaded(ports, settings, data=b"abcdef", start_import=False):
    """An image whose owner asked for a URL and PUT ``data`` to it (the event not yet handled)."""
    image_id = new_image(ports, settings)
    direct_upload.request_upload(MEMBER, image_id, {"size": len(data), "import": start_import}, settings, ports)
    ports.staging.objects[upload_key(image_id)] = data
    return image_id

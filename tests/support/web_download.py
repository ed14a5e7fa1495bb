"""web-download imports against fakes: the request body and a started import's job (unit tier)."""

from __future__ import annotations

from image_import.images.catalog import create_image
from image_import.models import ImportJob, RequestContext
from image_import.workflow.start import start_import

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"], request_id="req-1")
URI = "http://93.184.216.34/disk.img"


def web_body(uri=URI, **extra) -> dict:
    return {"method": {"name": "web-download", "uri": uri, **extra}}


def started(settings, ports, **extra) -> ImportJob:
    image = create_image(MEMBER, {"disk_format": "raw", "container_format": "bare"}, settings, ports)
    start_import(MEMBER, image.id, web_body(**extra), settings, ports)
    [(_, document)] = ports.workflow.started
    return ImportJob.model_validate(document)

"""glance-direct imports against fakes: a staged image, and its import run step by step (unit tier)."""

from __future__ import annotations

from image_import.images.catalog import create_image
from image_import.intake.stage import stage_image
from image_import.models import ImportJob, RequestContext
from image_import.workflow.start import start_import

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"], request_id="req-1")


GLANCE_DIRECT = {"method": {"name": "glance-direct"}}


def staged_image(ports, settings, data=b"abcdef"):
    image = create_image(MEMBER, {"disk_format": "raw", "container_format": "bare"}, settings, ports)
    stage_image(MEMBER, image.id, [data], None, settings, ports)
    return image.id


def run_job(ports, settings, image_id) -> ImportJob:
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    [(_, document)] = ports.workflow.started
    assert document["task_id"] == task.id
    return ImportJob.model_validate(document)

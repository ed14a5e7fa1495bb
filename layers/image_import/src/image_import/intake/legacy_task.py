"""Glance's legacy ``import`` task, run on our machinery (``glance/async_/flows/base_import.py``'s road):
its input is unpacked (a missing field fails the task), the image is created from
``input.image_properties`` (the caller's image create, policies, protections and quotas), and that
image is imported by web-download from ``import_from`` through the same lock, state machine and steps
as ``POST /import``. The Tasks API (``tasks/``) checks the call and records the task before this runs.
"""

from __future__ import annotations

import contextlib

from image_import.adapters.ports import Ports
from image_import.errors import GlanceError
from image_import.models import RequestContext, Task
from image_import.settings import Settings

LEGACY_INPUT_FIELDS = ("import_from", "import_from_format", "image_properties")
DEFAULT_IMAGE_PROPERTIES = {"disk_format": "qcow2", "container_format": "bare"}


def run_legacy_import(context: RequestContext, task: Task, uri: str, settings: Settings, ports: Ports) -> None:
    """Glance's ``import`` flow up to the data: unpack the input, create the image, then start its
    web-download import (the workflow takes the task to processing and success or failure)."""
    from image_import.images.catalog import create_image
    from image_import.workflow.start import start_task_import

    for field in LEGACY_INPUT_FIELDS:
        if field not in task.input:
            _fail(ports, task, f"Input does not contain '{field}' field")
            return
    properties = task.input["image_properties"]
    if not isinstance(properties, dict):
        _fail(ports, task, "Input field 'image_properties' must be an object of image properties")
        return
    try:
        # the id chosen with the task, unless the properties name one (then that one, or a refusal)
        body = {"id": task.image_id, **(properties or DEFAULT_IMAGE_PROPERTIES)}
        image = create_image(context, body, settings, ports)
    except GlanceError as exc:
        _fail(ports, task, f"The image could not be created: {exc.explanation}")
        return
    try:
        start_task_import(context, image, task, uri, settings, ports)
    except GlanceError as exc:
        # nothing of the image is kept (Glance's flow deletes the image it created when it fails)
        with contextlib.suppress(Exception):
            ports.images.delete(image.id)
        _fail(ports, task, exc.explanation)  # no-op when the start already failed it


def _fail(ports: Ports, task: Task, message: str) -> None:
    from image_import.images import task_outcome

    task_outcome.fail(ports, task.id, message)

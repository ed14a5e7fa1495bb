"""The set of adapters the domain works through; real ones by default, fakes or moto in tests."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from image_import.adapters.objects import Bucket
from image_import.adapters.records import ImageRepository, TaskRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.settings import get_resources

STAGING_PREFIX = "staging/"
# Users write here through presigned URLs and the S3 trigger listens here; the service only reads
# and deletes under it, so nothing it does can trigger itself.
UPLOAD_PREFIX = "uploads/"
STORE_PREFIX = "images/"


def staging_key(image_id: str) -> str:
    return f"{STAGING_PREFIX}{image_id}"


def upload_key(image_id: str) -> str:
    return f"{UPLOAD_PREFIX}{image_id}"


def image_id_of_upload(key: str) -> str | None:
    """The image id of an ``uploads/<id>`` key; None for any other key."""
    import uuid

    if not key.startswith(UPLOAD_PREFIX):
        return None
    candidate = key[len(UPLOAD_PREFIX) :]
    try:
        return candidate if str(uuid.UUID(candidate)) == candidate else None
    except ValueError:
        return None


def store_key(image_id: str) -> str:
    return f"{STORE_PREFIX}{image_id}"


@dataclass(frozen=True)
class Ports:
    images: ImageRepository
    tasks: TaskRepository
    staging: Bucket
    store: Bucket
    workflow: ImportWorkflow | None = None


@functools.cache
def default_ports() -> Ports:
    resources = get_resources()
    return Ports(
        images=ImageRepository(resources.images_table),
        tasks=TaskRepository(resources.tasks_table),
        staging=Bucket(resources.staging_bucket),
        store=Bucket(resources.store_bucket),
        workflow=ImportWorkflow(resources.state_machine_arn) if resources.state_machine_arn else None,
    )

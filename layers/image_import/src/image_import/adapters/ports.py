"""The set of adapters the domain works through; real ones by default, fakes or moto in tests."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from image_import.adapters.objects import Bucket
from image_import.adapters.records import ImageRepository, TaskRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.settings import get_resources


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

"""Read by mypy, never run (tests/unit/test_ports_conform.py): the boto3 adapters and the in-memory
fakes are each assignable to the ports they stand in for. A missing method or a drifted signature
is a type error here."""

from __future__ import annotations

from image_import.adapters.events import EventBus
from image_import.adapters.objects import Bucket
from image_import.adapters.ports import (
    EventPublisher,
    ImageRecords,
    Ports,
    StagingBucket,
    StoreBucket,
    TaskRecords,
    Workflow,
)
from image_import.adapters.records import ImageRepository, TaskRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.plugins.base import ImageChanges
from image_import.steps.actions import ImageActions
from tests.unit.fakes import FakeBucket, FakeRecords, FakeWorkflow


def the_adapters(
    images: ImageRepository, tasks: TaskRepository, bucket: Bucket, workflow: ImportWorkflow, bus: EventBus
) -> Ports:
    image_records: ImageRecords = images
    task_records: TaskRecords = tasks
    staging: StagingBucket = bucket
    store: StoreBucket = bucket
    starter: Workflow = workflow
    events: EventPublisher = bus
    return Ports(
        images=image_records, tasks=task_records, staging=staging, store=store, workflow=starter, events=events
    )


def the_fakes(records: FakeRecords, bucket: FakeBucket, workflow: FakeWorkflow) -> Ports:
    image_records: ImageRecords = records
    task_records: TaskRecords = records
    staging: StagingBucket = bucket
    store: StoreBucket = bucket
    starter: Workflow = workflow
    return Ports(images=image_records, tasks=task_records, staging=staging, store=store, workflow=starter)


def the_plugin_contract(actions: ImageActions) -> ImageChanges:
    """The plugin contract's port (plugins/base.py), implemented by the import's side."""
    changes: ImageChanges = actions
    return changes

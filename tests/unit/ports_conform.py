"""Read by mypy, never run (tests/unit/test_ports_conform.py): the boto3 adapters and the in-memory
fakes are each assignable to the ports they stand in for. A missing method or a drifted signature
is a type error here."""

from __future__ import annotations

from image_import.adapters.events import EventBus
from image_import.adapters.metadefs import DynamoMetadefStore
from image_import.adapters.objects import Bucket
from image_import.adapters.ports import (
    EventPublisher,
    ImageIndex,
    ImageRecords,
    MetadefRecords,
    Ports,
    StagingBucket,
    StoreBucket,
    TaskRecords,
    UsageRecords,
    Workflow,
)
from image_import.adapters.records import ImageIndexes, ImageRepository, TaskRepository, UsageRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.plugins.base import ImageChanges
from image_import.steps.actions import ImageActions
from tests.support.fakes import FakeBucket, FakeImageIndex, FakeMetadefRecords, FakeRecords, FakeUsage, FakeWorkflow


def the_adapters(
    images: ImageRepository,
    counters: UsageRepository,
    indexes: ImageIndexes,
    tasks: TaskRepository,
    bucket: Bucket,
    workflow: ImportWorkflow,
    bus: EventBus,
    metadefs: DynamoMetadefStore,
) -> Ports:
    image_records: ImageRecords = images
    usage: UsageRecords = counters
    image_index: ImageIndex = indexes
    task_records: TaskRecords = tasks
    staging: StagingBucket = bucket
    store: StoreBucket = bucket
    starter: Workflow = workflow
    events: EventPublisher = bus
    metadef_records: MetadefRecords = metadefs
    return Ports(
        images=image_records,
        usage=usage,
        image_index=image_index,
        tasks=task_records,
        staging=staging,
        store=store,
        workflow=starter,
        events=events,
        metadefs=metadef_records,
    )


def the_fakes(
    records: FakeRecords,
    counters: FakeUsage,
    indexes: FakeImageIndex,
    bucket: FakeBucket,
    workflow: FakeWorkflow,
    metadefs: FakeMetadefRecords,
) -> Ports:
    image_records: ImageRecords = records
    usage: UsageRecords = counters
    image_index: ImageIndex = indexes
    task_records: TaskRecords = records
    staging: StagingBucket = bucket
    store: StoreBucket = bucket
    starter: Workflow = workflow
    metadef_records: MetadefRecords = metadefs
    return Ports(
        images=image_records,
        usage=usage,
        image_index=image_index,
        tasks=task_records,
        staging=staging,
        store=store,
        workflow=starter,
        metadefs=metadef_records,
    )


def the_plugin_contract(actions: ImageActions) -> ImageChanges:
    """The plugin contract's port (plugins/base.py), implemented by the import's side."""
    changes: ImageChanges = actions
    return changes

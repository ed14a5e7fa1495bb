"""The set of adapters the domain works through; real ones by default, fakes or moto in tests.

Each port is a Protocol naming exactly what the domain calls on it, so the boto3 adapters and the
in-memory fakes of the tests are two implementations of one contract; mypy checks both against it
(tests/unit/test_ports_conform.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from image_import.adapters.aws import Credentials, assume_role
from image_import.adapters.events import EventBus
from image_import.adapters.metadefs import DynamoMetadefStore
from image_import.adapters.objects import Bucket
from image_import.adapters.records import ImageIndexes, ImageRepository, TaskRepository, UsageRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.settings import ConfigError, get_resources

if TYPE_CHECKING:
    from image_import.models import Image, ImportJob, Task
    from image_import.models.metadef import MetadefNamespace
    from image_import.models.quota import Claim


class ImageRecords(Protocol):
    """Image records; ``save`` is conditional on the version read (ConcurrentUpdate otherwise)."""

    def get(self, image_id: str) -> Image | None: ...
    def edit(
        self, image_id: str, change: Callable[[Image | None], Any], *, attempts: int, claims: Iterable[Claim] = ()
    ) -> Image | None: ...
    # ``claims``: the quota limits the write must keep its owner within (models/quota.py; OverLimit otherwise)
    def create(self, image: Image, claims: Iterable[Claim] = ()) -> None: ...
    def save(self, image: Image, claims: Iterable[Claim] = ()) -> None: ...
    def delete(self, image_id: str, expected_version: int | None = None) -> None: ...


class UsageRecords(Protocol):
    """A project's quota counters, moved by the image writes that count (ImageRecords) and read here."""

    def usage(self, project: str) -> dict[str, int]: ...
    # the sweeper's repair of the counters (quotas/repair.py)
    def usage_row(self, project: str) -> tuple[dict[str, int], str | None, int]: ...
    def set_usage(self, project: str, writes: int, counters: dict[str, int]) -> bool: ...
    def counted_projects(self) -> Iterable[str]: ...
    # the one operation per project and limit that may run past it (quotas/growth.py)
    def overrun_holders(self, project: str) -> dict[str, str]: ...
    def release_overrun(self, project: str, resource: str, operation: str) -> bool: ...


class ImageIndex(Protocol):
    """The images as their indexes find them, never the whole table."""

    # the list indexes: in list_position order (newest first with ``descending``), from just past ``after``
    def every(self, after: str | None = None, descending: bool = False) -> Iterable[Image]: ...
    def owned_by(self, project: str, after: str | None = None, descending: bool = False) -> Iterable[Image]: ...
    def with_visibility(
        self, visibility: str, after: str | None = None, descending: bool = False
    ) -> Iterable[Image]: ...
    def shared_with(self, project: str, after: str | None = None, descending: bool = False) -> Iterable[Image]: ...
    # the sweeper's reads (a status index; ids looked up in batches)
    def in_status(self, status: str, updated_before: str) -> Iterable[Image]: ...
    def by_ids(self, image_ids: Iterable[str]) -> dict[str, Image]: ...


class TaskRecords(Protocol):
    """Task records; ``save`` is conditional on the version read (ConcurrentUpdate otherwise)."""

    def get(self, task_id: str) -> Task | None: ...
    def edit(self, task_id: str, change: Callable[[Task | None], Any], *, attempts: int) -> Task | None: ...
    def create(self, task: Task) -> None: ...
    def save(self, task: Task) -> None: ...
    def for_image(self, image_id: str) -> list[Task]: ...
    # the list indexes: in list_position order (newest first with ``descending``), from just past ``after``
    def every(self, after: str | None = None, descending: bool = False) -> Iterable[Task]: ...
    def owned_by(self, project: str, after: str | None = None, descending: bool = False) -> Iterable[Task]: ...
    def in_status(self, status: str, updated_before: str) -> Iterable[Task]: ...


class ObjectBucket(Protocol):
    """What is done to either bucket: written, and swept of what nothing refers to."""

    @property
    def name(self) -> str: ...
    def write(self, key: str, chunks: Iterable[bytes], *, part_size: int) -> int: ...
    def delete(self, key: str) -> None: ...
    def listing(self, prefix: str = "") -> Iterable[tuple[str, datetime]]: ...
    def uploads(self) -> Iterable[tuple[str, str, datetime]]: ...
    def abort_multipart(self, key: str, upload_id: str) -> None: ...


class StagingBucket(ObjectBucket, Protocol):
    """Where data waits for its import: staged, read back by the import, or uploaded directly."""

    def size(self, key: str) -> int | None: ...
    def head(self, key: str) -> tuple[int, str] | None: ...
    def copy(self, source: str, target: str, etag: str, size: int, *, part_size: int) -> bool: ...
    def chunks(self, key: str) -> Iterator[bytes]: ...
    def ranged_chunks(self, key: str, first: int, last: int, etag: str) -> Iterator[bytes]: ...
    def read(self, key: str, first: int, last: int, etag: str | None = None) -> bytes: ...
    def presigned_put(self, key: str, expires_in: int, content_length: int) -> str: ...
    def start_multipart(self, key: str) -> str: ...
    def presigned_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, content_length: int
    ) -> str: ...
    def complete_multipart(self, key: str, upload_id: str) -> bool: ...
    def received_parts(self, key: str, upload_id: str) -> dict[int, int] | None: ...
    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> None: ...


class StoreBucket(ObjectBucket, Protocol):
    """Where active images' data lives: downloaded by range, or by a presigned URL."""

    def read(self, key: str, first: int, last: int, etag: str | None = None) -> bytes: ...
    def presigned_get(self, key: str, expires_in: int) -> str: ...
    def head(self, key: str) -> tuple[int, str] | None: ...
    # the store copy's passes: parts copied server-side from the staging bucket
    def start_multipart(self, key: str) -> str: ...
    def copy_from(self, source: Any, source_key: str, etag: str, key: str) -> None: ...
    def copy_part_from(
        self, source: Any, source_key: str, etag: str, key: str, upload_id: str, number: int, first: int, last: int
    ) -> None: ...
    def complete_multipart(self, key: str, upload_id: str) -> bool: ...
    def abort_uploads(self, key: str) -> None: ...


class Workflow(Protocol):
    """The import's state machine: one execution per (image, task), by a deterministic name."""

    def start(self, name: str, document: dict[str, Any]) -> str: ...
    def status(self, name: str) -> str | None: ...


class EventPublisher(Protocol):
    """Where lifecycle events go (the stack's EventBridge bus): Glance notification envelopes, in order;
    for each, None when the bus took it, else why not."""

    def publish_all(self, envelopes: Sequence[dict[str, Any]]) -> list[str | None]: ...


class MetadefRecords(Protocol):
    """The metadata definitions: namespace records, and what each holds (``kind``: object, property, tag,
    resource_type) as plain JSON documents under a key; the resource types ever associated, apart.
    ``add*`` is conditional (False: the key is taken); a namespace's ``remove_all`` takes what it holds too."""

    def namespaces(self) -> list[MetadefNamespace]: ...
    def namespace(self, name: str) -> MetadefNamespace | None: ...
    def add_namespace(self, namespace: MetadefNamespace) -> bool: ...
    def put_namespace(self, namespace: MetadefNamespace) -> None: ...
    def contents(self, name: str, kind: str) -> list[dict[str, Any]]: ...
    def child(self, name: str, kind: str, key: str) -> dict[str, Any] | None: ...
    def add(self, name: str, kind: str, key: str, record: dict[str, Any]) -> bool: ...
    def put(self, name: str, kind: str, key: str, record: dict[str, Any]) -> None: ...
    def remove(self, name: str, kind: str, key: str) -> bool: ...
    def remove_all(self, name: str, kind: str | None = None) -> None: ...
    def resource_types(self) -> list[dict[str, Any]]: ...
    def add_resource_type(self, record: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Ports:
    images: ImageRecords
    usage: UsageRecords  # the images' owners' counters
    image_index: ImageIndex  # the images' lists and the sweeper's reads
    tasks: TaskRecords
    staging: StagingBucket
    store: StoreBucket
    workflow: Workflow | None = None
    events: EventPublisher | None = None  # None: no events published (no bus configured)
    # multi-store: store id -> its bucket, where a test gives its own (stores/buckets.py builds the real ones)
    stores: dict[str, StoreBucket] | None = None
    metadefs: MetadefRecords | None = None  # None: no metadefs table (the /v2/metadefs API answers 404)


@functools.cache
def default_ports() -> Ports:
    resources = get_resources()
    return Ports(
        images=ImageRepository(resources.images_table),
        usage=UsageRepository(resources.images_table),
        image_index=ImageIndexes(resources.images_table),
        tasks=TaskRepository(resources.tasks_table),
        staging=Bucket(resources.staging_bucket),
        store=Bucket(resources.store_bucket),
        workflow=ImportWorkflow(resources.state_machine_arn) if resources.state_machine_arn else None,
        events=EventBus(resources.event_bus_name) if resources.event_bus_name else None,
        metadefs=DynamoMetadefStore(resources.metadefs_table) if resources.metadefs_table else None,
    )


# The tags of a plugin's role session: template.yaml's PluginImageRole / DataPluginImageRole confine every
# grant to them (the image's record, its owner's counters, this import's data)
IMAGE_TAG, TASK_TAG, OWNER_TAG = "ImageId", "TaskId", "ImageOwner"
Assume = Callable[[str, str, dict[str, str]], Credentials]


def plugin_ports(job: ImportJob, plugin: str, writes_data: bool = False, assume: Assume = assume_role) -> Ports:
    """The ports an import's plugin works through: every client signs as a session of the plugin role
    (``PLUGIN_ROLE_ARN``; a data plugin's, ``writes_data``: ``DATA_PLUGIN_ROLE_ARN``) tagged with the image,
    the task and the image's owner, so whatever the plugin's code does through them reaches that image's
    record and counters and that import's data only. The function's own role may do nothing but assume
    it (and only the one its plugin declares). No workflow, no events."""
    resources = get_resources()
    variable, role = (
        ("DATA_PLUGIN_ROLE_ARN", resources.data_plugin_role_arn)
        if writes_data
        else ("PLUGIN_ROLE_ARN", resources.plugin_role_arn)
    )
    if not role:
        raise ConfigError(f"environment variable {variable} is not set (a plugin function's scoped role)")

    def ports_of(owner: str | None) -> Ports:
        tags = {IMAGE_TAG: job.image_id, TASK_TAG: job.task_id, OWNER_TAG: owner or ""}
        credentials = assume(role, f"{plugin}.{job.task_id}"[:64], tags)
        return Ports(
            images=ImageRepository(resources.images_table, credentials),
            usage=UsageRepository(resources.images_table, credentials),
            image_index=ImageIndexes(resources.images_table, credentials),
            tasks=TaskRepository(resources.tasks_table, credentials),
            staging=Bucket(resources.staging_bucket, credentials=credentials),
            store=Bucket(resources.store_bucket, credentials=credentials),
        )

    owner = job.owner
    if owner is None:  # a document from before the owner travelled in it (or an image of no one): the record says
        image = ports_of(None).images.get(job.image_id)
        owner = image.owner if image is not None else None
    return ports_of(owner)

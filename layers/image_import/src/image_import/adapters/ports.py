"""The set of adapters the domain works through; real ones by default, fakes or moto in tests.

Each port is a Protocol naming exactly what the domain calls on it, so the boto3 adapters and the
in-memory fakes of the tests are two implementations of one contract; mypy checks both against it
(tests/unit/test_ports_conform.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from image_import.adapters.objects import Bucket
from image_import.adapters.records import ImageRepository, TaskRepository
from image_import.adapters.workflow import ImportWorkflow
from image_import.settings import get_resources

if TYPE_CHECKING:
    from image_import.models import Image, Task


class ImageRecords(Protocol):
    """Image records; ``save`` is conditional on the version read (ConcurrentUpdate otherwise)."""

    def get(self, image_id: str) -> Image | None: ...
    def edit(self, image_id: str, change: Callable[[Image | None], Any], *, attempts: int) -> Image | None: ...
    def create(self, image: Image) -> None: ...
    def save(self, image: Image) -> None: ...
    def delete(self, image_id: str, expected_version: int | None = None) -> None: ...
    def scan(self) -> Iterable[Image]: ...


class TaskRecords(Protocol):
    """Task records; ``save`` is conditional on the version read (ConcurrentUpdate otherwise)."""

    def get(self, task_id: str) -> Task | None: ...
    def edit(self, task_id: str, change: Callable[[Task | None], Any], *, attempts: int) -> Task | None: ...
    def create(self, task: Task) -> None: ...
    def save(self, task: Task) -> None: ...
    def scan(self) -> Iterable[Task]: ...
    def for_image(self, image_id: str) -> list[Task]: ...


class ObjectBucket(Protocol):
    """What is done to either bucket: written, and swept of what nothing refers to."""

    @property
    def name(self) -> str: ...
    def write(self, key: str, chunks: Iterable[bytes]) -> int: ...
    def delete(self, key: str) -> None: ...
    def listing(self, prefix: str = "") -> Iterable[tuple[str, datetime]]: ...
    def uploads(self) -> Iterable[tuple[str, str, datetime]]: ...
    def abort_multipart(self, key: str, upload_id: str) -> None: ...


class StagingBucket(ObjectBucket, Protocol):
    """Where data waits for its import: staged, read back by the import, or uploaded directly."""

    def size(self, key: str) -> int | None: ...
    def head(self, key: str) -> tuple[int, str] | None: ...
    def copy(self, source: str, target: str, etag: str, size: int) -> bool: ...
    def chunks(self, key: str) -> Iterator[bytes]: ...
    def presigned_put(self, key: str, expires_in: int, content_length: int) -> str: ...
    def start_multipart(self, key: str) -> str: ...
    def presigned_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, content_length: int
    ) -> str: ...
    def complete_multipart(self, key: str, upload_id: str) -> bool: ...
    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> None: ...


class StoreBucket(ObjectBucket, Protocol):
    """Where active images' data lives: downloaded by range, or by a presigned URL."""

    def read(self, key: str, first: int, last: int) -> bytes: ...
    def presigned_get(self, key: str, expires_in: int) -> str: ...


class Workflow(Protocol):
    """The import's state machine: one execution per (image, task), by a deterministic name."""

    def start(self, name: str, document: dict[str, Any]) -> str: ...
    def status(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Ports:
    images: ImageRecords
    tasks: TaskRecords
    staging: StagingBucket
    store: StoreBucket
    workflow: Workflow | None = None


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

"""Every record a table holds, read the way only a test reads one: the whole table. The service itself
never scans (its lists and the sweeper read indexes), so the repositories have no such read."""

from __future__ import annotations

from typing import Any

import boto3

from image_import.adapters.records import ImageIndexes, TaskRepository
from image_import.models import Image, Task

ROW_KINDS = ("deleted", "member_of", "usage_of")  # tombstones, membership rows, usage rows: no record


def _record_ids(table: str) -> list[str]:
    paginator = boto3.client("dynamodb").get_paginator("scan")
    ids: list[str] = []
    for page in paginator.paginate(TableName=table, ConsistentRead=True):
        ids += [item["id"]["S"] for item in page.get("Items", []) if not any(k in item for k in ROW_KINDS)]
    return ids


def stored_images(table: str) -> list[Image]:
    """The images an images table holds (deleted ones, membership and usage rows left out)."""
    found = ImageIndexes(table).by_ids(ids := _record_ids(table))
    return [found[i] for i in ids if i in found]


def stored_tasks(table: str) -> list[Task]:
    """The tasks a tasks table holds."""
    repository = TaskRepository(table)
    return [task for task in map(repository.get, _record_ids(table)) if task is not None]


def in_memory(records: Any) -> list[Any]:
    """The records an in-memory fake (tests/support/fakes.FakeRecords) holds, as copies."""
    return [record.model_copy(deep=True) for record in records.items.values()]

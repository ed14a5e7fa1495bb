"""Task records: created and saved conditionally on the version read, listed through their indexes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from image_import.adapters.records.table import (
    LIST_POSITION,
    LISTED,
    TASK,
    Repository,
    batch_items,
    from_item,
    ids_in_status,
    to_item,
)
from image_import.models import Task
from image_import.models.ids import canonical_id


class TaskRepository(Repository):
    model = Task
    BY_IMAGE_INDEX = "by-image"

    def get(self, task_id: str) -> Task | None:
        return self._get(canonical_id(task_id))

    def edit(self, task_id: str, change: Callable[[Task | None], Any], attempts: int) -> Task | None:
        return super().edit(task_id, change, attempts)

    def create(self, task: Task) -> None:
        self._create(task, f"Task {task.id} already exists")

    def save(self, task: Task) -> None:
        self._save(task)

    # ---- what GET /v2/tasks reads instead of the whole table: in list_position order, from just past ``after``
    BY_OWNER_INDEX, ALL_INDEX = "by-owner", "all-tasks"

    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        task: Task = record  # type: ignore[assignment]
        return {**to_item(task), LIST_POSITION: {"S": task.list_position}, LISTED: {"S": TASK}}

    def every(self, after: str | None = None, descending: bool = False) -> Iterator[Task]:
        return self._records(self._query(self.ALL_INDEX, LISTED, TASK, after, descending))

    def owned_by(self, project: str, after: str | None = None, descending: bool = False) -> Iterator[Task]:
        return self._records(self._query(self.BY_OWNER_INDEX, "owner", project, after, descending))

    def for_image(self, image_id: str) -> list[Task]:
        """Tasks of one image, oldest first (as Glance lists them)."""
        paginator = self._dynamodb().get_paginator("query")
        tasks: list[Task] = []
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=self.BY_IMAGE_INDEX,
            KeyConditionExpression="image_id = :i",
            ExpressionAttributeValues={":i": {"S": canonical_id(image_id)}},
            ScanIndexForward=True,
        ):
            tasks.extend(from_item(Task, item) for item in page.get("Items", []))
        return tasks

    # ---- what the sweeper reads instead of the whole table (workflow/sweeper.py)
    BY_STATUS_INDEX = "by-status"

    def in_status(self, status: str, updated_before: str) -> Iterator[Task]:
        """The tasks in ``status`` last updated at or before ``updated_before`` (a record stamp)."""
        return self._records(
            batch_items(
                self._dynamodb(),
                self.table,
                ids_in_status(self._dynamodb(), self.table, self.BY_STATUS_INDEX, status, updated_before),
            )
        )

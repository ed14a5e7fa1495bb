"""The Tasks API (GET /v2/tasks, GET /v2/tasks/{id}), closed unless tasks_api_access passes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, NotFound
from image_import.images import paging
from image_import.models import RequestContext, Task
from image_import.policy import access
from image_import.settings import Settings

UUID_LIKE = re.compile(r"^[0-9a-fA-F-]{32,36}$")
STATUSES = ("pending", "processing", "success", "failure")
SORT_KEYS = ("created_at", "updated_at", "id", "type", "status")


def _gate(context: RequestContext, action: str, settings: Settings) -> None:
    access.require_allowed(context, "tasks_api_access", settings)
    access.require_allowed(context, action, settings)


def _visible(context: RequestContext, task: Task) -> bool:
    return context.is_admin or (context.has_project and task.owner == context.project_id)


def get_task(context: RequestContext, task_id: str, settings: Settings, ports: Ports) -> Task:
    _gate(context, "get_task", settings)
    task = ports.tasks.get(task_id)
    if task is None or not _visible(context, task):
        raise NotFound(f"Task with identifier {task_id} not found")
    return task


@dataclass
class TaskPage:
    tasks: list[Task]
    next_marker: str | None


def list_tasks(context: RequestContext, query: dict[str, list[str]], settings: Settings, ports: Ports) -> TaskPage:
    _gate(context, "get_tasks", settings)
    one = {k: v[-1] for k, v in query.items() if v}
    status, kind = one.get("status"), one.get("type")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"Invalid status value: {status}")
    if kind is not None and kind != "import":
        # as Glance: only the legacy 'import' type can be filtered on
        raise BadRequest(f"Invalid type value: {kind}")
    sort_key, sort_dir = one.get("sort_key", "created_at"), one.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort_key: {sort_key}")
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {sort_dir}")
    limit = paging.limit(query, settings)
    marker = one.get("marker")
    if marker is not None and not UUID_LIKE.match(marker):
        raise BadRequest("Invalid marker format")

    tasks = [
        t
        for t in ports.tasks.scan()
        if _visible(context, t) and (status is None or t.status == status) and (kind is None or t.type == kind)
    ]
    tasks.sort(key=lambda t: (str(getattr(t, sort_key)), t.id), reverse=sort_dir == "desc")
    return TaskPage(*paging.page_after(tasks, marker, limit, "Task"))


def task_stub(task: Task) -> dict[str, Any]:
    body = {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "self": f"/v2/tasks/{task.id}",
        "schema": "/v2/schemas/task",
    }
    if task.expires_at:
        body["expires_at"] = task.expires_at
    return body


def task_detail(task: Task) -> dict[str, Any]:
    body = {**task_stub(task), "input": task.input, "result": task.result, "message": task.message}
    body["schema"] = "/v2/schemas/task"
    for key in ("image_id", "request_id", "user_id"):
        if getattr(task, key):
            body[key] = getattr(task, key)
    return body

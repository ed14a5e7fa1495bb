"""The Tasks API (POST/GET /v2/tasks, GET /v2/tasks/{id}), closed unless tasks_api_access passes.

``POST /v2/tasks`` creates Glance's legacy ``import`` task: ``input.import_from`` is checked at the
call as Glance checks it (scheme, then the web-download URI filter), the task is recorded, and then
it runs as Glance's ``import`` flow does, on our machinery: its input is unpacked (a missing field
fails the task), the image is created from ``input.image_properties`` (the caller's image create,
policies, protections and quotas), and that image is imported by web-download from ``import_from``
through the same lock, state machine and steps as ``POST /import``; on success the task's result is
``{"image_id": ...}``. Task records vanish once past their ``expires_at`` (48 h after they ended).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, GlanceError, NotFound
from image_import.images import paging
from image_import.models import RequestContext, Task
from image_import.models.ids import canonical_id
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.policy.uri_filter import Resolver, UriRejected, check_uri, system_resolver
from image_import.settings import Settings

UUID_LIKE = re.compile(r"^[0-9a-fA-F-]{32,36}$")
STATUSES = ("pending", "processing", "success", "failure")
TYPES = ("import", "api_image_import", "location_import")  # the task schema's enum
LEGACY_IMPORT = "import"
# Glance sorts on any column of its tasks table (input, result and message live in another: 400)
SORT_KEYS = (
    "created_at",
    "updated_at",
    "id",
    "type",
    "status",
    "owner",
    "expires_at",
    "image_id",
    "request_id",
    "user_id",
)
# and filters on any of them by equality (unknown keys are ignored); the time columns are left out
EQUALITY_FILTERS = ("id", "type", "status", "owner", "image_id", "request_id", "user_id")
LEGACY_INPUT_FIELDS = ("import_from", "import_from_format", "image_properties")
# Glance fills these in when image_properties is empty (glance.common.scripts.utils)
DEFAULT_IMAGE_PROPERTIES = {"disk_format": "qcow2", "container_format": "bare"}


def _gate(context: RequestContext, action: str, settings: Settings) -> None:
    access.require_allowed(context, "tasks_api_access", settings)
    access.require_allowed(context, action, settings)


def require_api_access(context: RequestContext, settings: Settings) -> None:
    """Glance checks tasks_api_access before it reads the request's body."""
    access.require_allowed(context, "tasks_api_access", settings)


def _visible(context: RequestContext, task: Task, now: datetime) -> bool:
    if task.expired(now):
        return False
    return context.is_admin or (context.has_project and task.owner == context.project_id)


def _now() -> datetime:
    return datetime.now(UTC)


def get_task(context: RequestContext, task_id: str, settings: Settings, ports: Ports) -> Task:
    _gate(context, "get_task", settings)
    task = ports.tasks.get(task_id)
    if task is None or not _visible(context, task, _now()):
        raise NotFound(f"Task with identifier {task_id} not found")
    return task


# ---------------------------------------------------------------------------- create
def create_task(
    context: RequestContext,
    body: Any,
    settings: Settings,
    ports: Ports,
    resolve: Resolver = system_resolver,
) -> Task:
    """POST /v2/tasks: Glance's checks in its order (400s), then the task, recorded and run.

    Returns the task as it was created (``pending``), which is what the 201 shows in Glance too: what
    Glance's flow finds wrong later (a missing input field, an image it cannot create) fails the task
    after the answer; here it fails it before, the record saying so by the time anyone reads it.
    """
    _gate(context, "add_task", settings)
    _validate_body(body)
    kind, task_input = body["type"], body["input"]
    if kind != LEGACY_IMPORT:
        # Glance accepts these and the task fails at once (or runs an import that bypassed the import
        # API's checks): they are created by POST /import and the locations API, not here
        raise BadRequest(
            f"Tasks of type '{kind}' are created by the image import API; POST /v2/tasks creates 'import' tasks."
        )
    uri = _checked_import_from((task_input or {}).get("import_from"), settings, resolve)

    properties = task_input.get("image_properties")
    image_id = properties.get("id") if isinstance(properties, dict) else None
    now = utcnow()
    task = Task(
        id=str(uuid.uuid4()),
        type=LEGACY_IMPORT,
        owner=context.project_id,
        # the image this task creates (Glance's task row has none; views leave it out, the result names it)
        image_id=image_id if isinstance(image_id, str) and image_id else str(uuid.uuid4()),
        request_id=context.request_id,
        user_id=context.user_id,
        input=task_input,
        created_at=now,
        updated_at=now,
    )
    ports.tasks.create(task)
    created = task.model_copy(deep=True)
    notifications.task_event("task.create", task, ports, settings)
    _run_legacy_import(context, task, uri, settings, ports)
    return created


def _validate_body(body: Any) -> None:
    """Glance's RequestDeserializer.create: a dict, 'type' and 'input' present, the task schema."""
    import jsonschema  # only task creation pays for it

    from image_import.images.schemas import task_schema

    if not isinstance(body, (dict, list)):
        raise BadRequest("Unexpected body type. Expected list/dict.")
    for required in ("type", "input"):
        if required not in body:
            raise BadRequest(f"Task '{required}' is required")
    if not isinstance(body, dict):  # a list naming both ("type", "input"): Glance fails with a 500
        raise BadRequest("Unexpected body type. Expected dict.")
    try:
        jsonschema.validate(body, {**task_schema(), "additionalProperties": False})
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise BadRequest(
            f"Provided object does not match schema 'task': {exc.message}" + (f" (at '{where}')" if where else "")
        ) from None


def _checked_import_from(uri: Any, settings: Settings, resolve: Resolver) -> str:
    """glance.common.scripts.utils.validate_legacy_import_from_uri: http(s) only, then the URI filter
    (ours: the web-download filter, DNS and address checks included; the workflow checks it again)."""
    if not uri or not isinstance(uri, str):
        raise BadRequest(f"Invalid location: {uri}")
    if uri.startswith(("file:///", "filesystem:///")):
        raise BadRequest("File based imports are not allowed. Please use a non-local source of image data.")
    if not uri.startswith(("http://", "https://")):
        raise BadRequest(
            "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']"
        )
    try:
        check_uri(uri, settings.uri_filter, resolve)
    except UriRejected:
        raise BadRequest(f"URI for legacy import task does not pass filtering: {uri}") from None
    return uri


def _run_legacy_import(context: RequestContext, task: Task, uri: str, settings: Settings, ports: Ports) -> None:
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


# ---------------------------------------------------------------------------- list
@dataclass
class TaskPage:
    tasks: list[Task]
    next_marker: str | None


def _first(query: dict[str, list[str]], key: str) -> str | None:
    """Glance pops limit, marker, sort_key and sort_dir from WebOb's MultiDict: the first value counts."""
    values = query.get(key)
    return values[0] if values else None


def _column(task: Task, key: str) -> Any:
    """The task's value in Glance's tasks table (a legacy import task's row has no image_id)."""
    if key == "image_id" and not _shows_image_id(task):
        return None
    return getattr(task, key)


def _sort_value(task: Task, key: str) -> tuple:
    value = _column(task, key)
    return (value is not None, "" if value is None else str(value))  # NULL sorts first, as in SQL ascending


def list_tasks(
    context: RequestContext,
    query: dict[str, list[str]],
    settings: Settings,
    ports: Ports,
    size_of: Callable[[Task], int] | None = None,
    budget: int = 0,
) -> TaskPage:
    """GET /v2/tasks: Glance's checks and 400s, its filters (the last value of each), its sort keys with
    created_at and id as tie-breakers, and the page after ``marker`` (which need not pass the filters),
    ending at its limit or, with ``size_of``, before the task that would take it past ``budget`` bytes."""
    _gate(context, "get_tasks", settings)
    filters = {k: v[-1] for k, v in query.items() if v and k not in ("limit", "marker", "sort_key", "sort_dir")}
    for key in ("id", "image_id"):  # ids compare in their stored spelling (models/ids.py)
        if key in filters:
            filters[key] = canonical_id(filters[key])
    sort_dir = _first(query, "sort_dir") or "desc"
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {sort_dir}")
    status, kind = filters.get("status"), filters.get("type")
    if status and status not in STATUSES:
        raise BadRequest(f"Invalid status value: {status}")
    if kind and kind != LEGACY_IMPORT:
        # as Glance: only the legacy 'import' type can be filtered on
        raise BadRequest(f"Invalid type value: {kind}")
    marker = _first(query, "marker")
    if marker is not None and not UUID_LIKE.match(marker):
        raise BadRequest("Invalid marker format")
    raw_limit = _first(query, "limit")
    limit = paging.limit({"limit": [raw_limit]} if raw_limit is not None else {}, settings)
    sort_key = _first(query, "sort_key") or "created_at"

    now = _now()
    after = None
    if marker is not None:  # looked up before the sort key is (Glance's database layer)
        after = ports.tasks.get(marker)
        if after is None or not _visible(context, after, now):
            raise BadRequest(f"Task with the given id {marker} was not found")
    if sort_key not in SORT_KEYS:
        raise BadRequest("Sort key supplied was not valid.")
    order = list(dict.fromkeys((sort_key, "created_at", "id")))
    descending = sort_dir == "desc"

    def position(task: Task) -> tuple:
        return tuple(_sort_value(task, k) for k in order)

    def passes(task: Task) -> bool:
        return all(
            (actual := _column(task, key)) is not None and str(actual) == value
            for key, value in filters.items()
            if key in EQUALITY_FILTERS
        )

    def shown(task: Task) -> bool:
        return _visible(context, task, now) and passes(task)

    if sort_key == "created_at":  # the default: the index's own order, read a page at a time from the marker
        start = after.list_position if after is not None else None
        return TaskPage(
            *paging.take(filter(shown, _candidates(context, ports, start, descending)), limit, size_of, budget)
        )
    listed = sorted(filter(shown, _candidates(context, ports)), key=position, reverse=descending)
    if after is not None:
        edge = position(after)
        listed = [t for t in listed if (position(t) < edge if descending else position(t) > edge)]
    return TaskPage(*paging.take(listed, limit, size_of, budget))


def _candidates(context: RequestContext, ports: Ports, after: str | None = None, descending: bool = False):
    """The tasks a list may show, through the tasks' list indexes (an admin's: every task; anyone else's:
    their project's), in list order from just past ``after``; never the whole table."""
    if context.is_admin:
        return ports.tasks.every(after, descending)
    if not context.has_project:
        return iter(())
    return ports.tasks.owned_by(context.project_id, after, descending)


# ---------------------------------------------------------------------------- views
def _shows_image_id(task: Task) -> bool:
    # a legacy import task names its image in its result only (Glance's row has no image_id)
    return bool(task.image_id) and task.type != LEGACY_IMPORT


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
    """Glance's key order: id, input, type, status, owner, message, result, times, self, schema, then the
    optional image_id, request_id, user_id, expires_at."""
    body: dict[str, Any] = {
        "id": task.id,
        "input": task.input,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "message": task.message,
        "result": task.result,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "self": f"/v2/tasks/{task.id}",
        "schema": "/v2/schemas/task",
    }
    if _shows_image_id(task):
        body["image_id"] = task.image_id
    for key in ("request_id", "user_id", "expires_at"):
        if getattr(task, key):
            body[key] = getattr(task, key)
    return body

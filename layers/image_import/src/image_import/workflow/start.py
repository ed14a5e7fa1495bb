"""Starting an import: Glance's validation order, the lock, the task record, one execution."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

from image_import import metrics, notifications
from image_import.adapters.ports import Ports
from image_import.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    RequestEntityTooLarge,
    ServiceUnavailable,
    TaskAborted,
)
from image_import.images import task_outcome
from image_import.images.catalog import get_image
from image_import.models import Image, ImportJob, RequestContext, Task, lifecycle
from image_import.models.image import FAILED_IMPORT_KEY, IMPORTING_TO_STORES_KEY, ImportLock
from image_import.models.job import DownloadSlice
from image_import.models.quota import IMAGE_SIZE_TOTAL, OverLimit
from image_import.models.time import utcnow
from image_import.policy import access, preconditions
from image_import.quotas import admission, claims
from image_import.settings import Settings
from image_import.steps import web_download
from image_import.stores import targets
from image_import.transfer.layout import source_key
from image_import.workflow import locks

NOT_STARTED = "The import could not be started"
COPY_IMAGE = "copy-image"
# The largest import request recorded on its task: Glance's tasks.input column is a TEXT (65535 bytes
# on MySQL), and within it the task record always fits DynamoDB's 400 KB item. Real requests are
# under a kilobyte (a method, a URI, stores, validation data).
MAX_IMPORT_REQUEST = 65535


def start_import(
    context: RequestContext,
    image_id: str,
    body: Any,
    settings: Settings,
    ports: Ports,
    clock: locks.Clock = locks.system_clock,
    store_header: str | None = None,
) -> Task | None:
    """Validate, take the image's import lock (or an expired one over), record the task, start the workflow.

    ``store_header``: the request's ``X-Image-Meta-Store`` (multi-store: the one store to import into).
    """
    method = _validate_request(body, settings)
    # Glance: refused here only when the project is over its store space already; what this import
    # adds is claimed when it takes the lock (below)
    known = admission.precheck(settings, ports.usage, context.project_id, (IMAGE_SIZE_TOTAL, 0))
    image = get_image(context, image_id, ports, settings)
    expired = locks.lock_is_stale(image, ports, clock())
    if expired and image.status == "importing":
        # the dead import's image counts as what it was before: 'uploading' while staged data exists
        lifecycle.move(image, "release", to=locks.status_before_import(ports, source_key(image, "glance-direct")))
    preconditions.check(preconditions.import_operation(method), image)  # status, then formats
    # Glance: copy-image is its own policy (admin by default), any other import is the owner's
    access.authorize(context, "copy_image" if method == COPY_IMAGE else "modify_image", image, settings)
    if image.import_lock is not None and not expired:
        raise Conflict("Image has active task")
    stores: list[str] = []
    if settings.multi_store:
        stores = settings.by_weight(targets.requested_stores(body, store_header, settings))
    if method == COPY_IMAGE:
        stores = targets.copy_targets(stores, image.stores or settings.default_stores, body.get("all_stores", False))
        if not stores:
            return None  # Glance: the image is in every store already; 202 and nothing to do
    source_uri, expected_hash = None, None
    if method == "web-download":
        source_uri, expected_hash = web_download.prepare(body, settings)
    if expired:
        # Glance: the old task fails first; the conditional write below then takes the lock over
        old_task = image.import_lock.task_id
        with contextlib.suppress(TaskAborted):  # the takeover's conditional write below decides either way
            task_outcome.fail(ports, old_task, locks.PREEMPTED_MESSAGE, clock(), settings)

    now = utcnow()
    task = Task(
        id=str(uuid.uuid4()),
        owner=context.project_id,
        image_id=image.id,
        request_id=context.request_id,
        user_id=context.user_id,
        input={"image_id": image.id, "import_req": body, "backend": stores or [None]},
        created_at=now,
        updated_at=now,
    )
    _lock_and_start(
        image,
        task,
        method,
        context,
        settings,
        ports,
        source_uri,
        expected_hash,
        record_task=True,
        stores=stores,
        all_stores_must_succeed=body.get("all_stores_must_succeed", True),
        known_limits=known,
    )
    return task


def start_task_import(
    context: RequestContext, image: Image, task: Task, source_uri: str, settings: Settings, ports: Ports
) -> None:
    """A legacy ``import`` task (POST /v2/tasks) on the image it just created: a web-download of its
    ``import_from`` through the same lock, task record and workflow as POST /import. The task is
    recorded already; the URI passed the filter at the API (the workflow checks it again)."""
    preconditions.check(preconditions.import_operation(web_download.METHOD), image)
    _lock_and_start(image, task, web_download.METHOD, context, settings, ports, source_uri, None, record_task=False)


def _lock_and_start(
    image: Image,
    task: Task,
    method: str,
    context: RequestContext,
    settings: Settings,
    ports: Ports,
    source_uri: str | None,
    expected_hash: tuple[str, str] | None,
    record_task: bool,
    stores: list[str] | None = None,
    all_stores_must_succeed: bool = True,
    known_limits: admission.Known = None,
) -> None:
    """Take the image's import lock for ``task`` (conditional write), record the task, start one execution;
    undo the lock and fail the task if the execution cannot start. ``stores``: multi-store, the target
    stores by weight (none: the default store)."""
    stores = stores or []
    now = utcnow()
    previous_status = image.status
    if image.import_lock is not None and image.import_lock.restore:
        # a stale lock taken over: its import's data plugin changed the size or formats and never
        # reverted; this import starts from the staged data as declared, so put them back first
        for attribute, value in image.import_lock.restore.items():
            setattr(image, attribute, value)
    image.import_lock = ImportLock(task_id=task.id, taken_at=now)
    image.arriving = 0  # what a dead import was writing is nobody's now (the sweeper removes its bytes)
    if method != COPY_IMAGE:  # a copy leaves the image active, in the stores it was in
        lifecycle.move(image, "import")
    image.properties[IMPORTING_TO_STORES_KEY] = ",".join(stores)
    image.properties[FAILED_IMPORT_KEY] = ""
    if expected_hash is not None:  # the store step fails the import if the data's digest differs
        image.os_hash_algo, image.os_hash_value = expected_hash
    image.updated_at = now
    known_limits = admission.read_once(settings, image.owner, known_limits)  # the job carries them on

    def claim() -> None:
        # conditional on the version read (only one import wins) and on what it claims of the quotas
        try:
            wanted = admission.for_import(
                settings, image.owner, method, image.size, known_limits, stores=len(stores) or 1
            )
            ports.images.save(image, claims=wanted)
        except ConcurrentUpdate:
            raise Conflict(
                f"New operation on image '{image.id}' is not permitted as prior operation is still in progress"
            ) from None
        notifications.image_event("image.update", image, ports, settings)

    def start() -> None:
        limits = known_limits[1] if known_limits is not None else None
        download = DownloadSlice(uri=source_uri) if source_uri is not None else None
        job = import_job(image, task.id, method, context, download=download, limits=limits)
        if stores:
            source = (image.stores or settings.default_stores)[0]  # a copy reads the heaviest store it is in
            job = job.model_copy(
                update={
                    **targets.job_stores(method, stores, source),
                    "all_stores_must_succeed": all_stores_must_succeed,
                }
            )
        if record_task:
            ports.tasks.create(task)
        if ports.workflow is None:
            raise ServiceUnavailable("The import workflow is not configured (STATE_MACHINE_ARN is unset).")
        ports.workflow.start(execution_name(image.id, task.id), job.to_state())

    def give_back(exc: BaseException) -> None:
        _release(image.id, task, previous_status, ports, f"{NOT_STARTED}: {exc}")
        if not isinstance(exc, Exception) or isinstance(exc, (ServiceUnavailable, RequestEntityTooLarge)):
            return  # a task record too large to store (413) is the client's to change, no "try again later"
        raise ServiceUnavailable("The import could not be started; nothing was changed. Try again later.") from exc

    try:
        claims.claimed(claim, start, give_back)
    except OverLimit as over:  # the claim's: nothing was taken
        # Glance: accepted (202), then its task fails with the limit's message; the image is as it was
        _refuse(task, admission.message(over), record_task, settings, ports)
        return
    if record_task:  # a legacy task's task.create was sent when POST /v2/tasks recorded it
        notifications.task_event("task.create", task, ports, settings)
    notifications.task_event("task.run", task, ports, settings)  # its execution has started
    metrics.import_started(method)


def import_job(image: Image, task_id: str, method: str, context: RequestContext, **fields: Any) -> ImportJob:
    """The workflow document of an import: the one builder, for the API's start and the sweeper's revert."""
    return ImportJob(
        image_id=image.id,
        task_id=task_id,
        method=method,
        context=context,
        owner=image.owner,
        staging_key=source_key(image, method),
        **fields,
    )


def execution_name(image_id: str, task_id: str) -> str:
    """Deterministic per task: a replayed start cannot run the same import twice."""
    return f"{image_id}-{task_id}"


def _validate_request(body: Any, settings: Settings) -> str:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest("Unexpected body type. Expected dict.")
    method = body.get("method")
    if not method:
        raise BadRequest("Import request requires a 'method' field.")
    if not isinstance(method, dict) or not method.get("name"):
        raise BadRequest("Import request requires a 'name' field.")
    name = method["name"]
    if name not in settings.enabled_import_methods:
        raise BadRequest(f"Unknown import method name '{name}'.")
    for flag in ("all_stores_must_succeed", "all_stores"):
        if flag in body and not isinstance(body[flag], bool):
            raise BadRequest(f"'{flag}' must be a boolean, got {body[flag]!r}")
    # before the image is locked or any quota claimed: the task record must hold the request
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_IMPORT_REQUEST:
        raise RequestEntityTooLarge(
            f"The import request is too large to record on its task: {size} bytes as JSON, "
            f"at most {MAX_IMPORT_REQUEST}."
        )
    # Single store: 'stores', 'all_stores' and 'all_stores_must_succeed' are accepted and ignored
    # (tempest sends all_stores=true and OSC sends all_stores_must_succeed=false by default).
    return name


def _refuse(task: Task, message: str, record_task: bool, settings: Settings, ports: Ports) -> None:
    """An import over a limit: its task ends in failure with the limit's message, and nothing runs."""
    if not record_task:  # a legacy task, recorded already (task_outcome sends task.failure)
        task_outcome.fail(ports, task.id, message, settings=settings)
        return
    task.fail(message, locks.system_clock())
    ports.tasks.create(task)
    notifications.task_event("task.create", task, ports, settings)
    notifications.task_event("task.failure", task, ports, settings)


def _release(image_id: str, task: Task, previous_status: str, ports: Ports, message: str) -> None:
    """Undo a lock whose workflow never started, so the image is not left in 'importing'."""

    def unlock(image: Image | None) -> bool:
        if image is None or image.import_lock is None or image.import_lock.task_id != task.id:
            return False
        if image.status != previous_status:  # a copy-image never left 'active'
            lifecycle.move(image, "release", to=previous_status)
        image.properties[IMPORTING_TO_STORES_KEY] = ""
        image.import_lock, image.updated_at = None, utcnow()
        return True

    # best effort: the task is failed below whatever happens to the image
    with contextlib.suppress(ConcurrentUpdate):
        if released := ports.images.edit(image_id, unlock, attempts=5):
            notifications.image_event("image.update", released, ports)

    task_outcome.fail(ports, task.id, message)

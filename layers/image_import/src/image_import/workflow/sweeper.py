"""The sweeper: repairs what a crash can leave behind, so that no import stays stuck.

Run on a schedule (functions/sweeper) or by hand (``python -m image_import_dev.sweep``). Each pass:

1. an image locked by an import whose execution has ended (or never started) is reverted exactly
   as the revert step would: store data removed, lock released, back to ``uploading`` with its
   staged data kept (``queued`` without it), task failed with a message saying why;
2. a ``pending``/``processing`` task whose execution has ended (or never started) is failed;
3. staged objects no image references (image gone, or not ``uploading``/``importing``) and store
   objects of images that are neither ``active`` nor being imported are deleted;
4. multipart uploads older than ``upload_age`` in either bucket are aborted;
5. each project's quota counters are recomputed from its images and put right where they drifted
   (quotas/repair.py: the projects through the sparse ``by-usage`` index, their images by owner).

Anything younger than ``grace`` is left alone: an import may be between taking its lock and
starting its execution, a stage between writing its object and recording it. A direct upload
(``uploads/<id>``) of a ``queued`` image is kept for ``upload_event_window``: its ObjectCreated event
may still be waiting in UploadQueue (retried or not yet received), and deleting the object would lose
the upload that event reports.

It never reads a whole table: the candidates of steps 1 and 2 come from the ``by-status`` indexes
(``importing`` images, ``pending``/``processing`` tasks, each last updated at least ``grace`` ago, and
the images of those tasks: a copy-image holds its lock on an ``active`` image), and steps 3 and 4 look
up by id (BatchGetItem, 100 ids a request) the images of the objects and uploads a listing finds.

What an index read saw may be out of date by the time the execution's status is known (the import may
have finished in between): both the image and its task are read again after DescribeExecution, and an
image whose lock has moved on, or whose task is already a success, is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from image_import.adapters.ports import ObjectBucket, Ports
from image_import.errors import TaskAborted
from image_import.images import task_outcome
from image_import.models import Image, ImportJob, RequestContext, Task, lifecycle
from image_import.models.time import parse_time, utc_stamp
from image_import.quotas.repair import repair_counters
from image_import.settings import Settings
from image_import.settings.environment import variables
from image_import.stores.buckets import further_store_buckets
from image_import.stores.targets import job_stores
from image_import.transfer.layout import STORE_PREFIX, UPLOAD_PREFIX, image_id_of_key
from image_import.workflow import locks
from image_import.workflow.revert import revert
from image_import.workflow.start import execution_name, import_job

logger = Logger(child=True)

RUNNING = "RUNNING"
# the Step of the failure metric when the sweeper reverts: the execution ended (or never began) without a revert
LOST_EXECUTION = "LostExecution"
# statuses in which an image still needs its staged data / its stored data
USES_STAGED_DATA = (lifecycle.UPLOADING, lifecycle.IMPORTING)
USES_STORED_DATA = (lifecycle.ACTIVE, lifecycle.DEACTIVATED, lifecycle.PENDING_DELETE, lifecycle.IMPORTING)
# tasks whose execution should still be running
UNFINISHED_TASKS = ("pending", "processing")
# objects (and uploads) whose images are looked up together: BatchGetItem's 100 keys a request
LOOKUP_BATCH = 100


SWEEPER_VARIABLES = ("SWEEPER_GRACE_MINUTES", "SWEEPER_UPLOAD_AGE_HOURS", "SWEEPER_UPLOAD_EVENT_WINDOW_SECONDS")


@dataclass(frozen=True)
class SweepLimits:
    grace: timedelta = timedelta(minutes=15)
    upload_age: timedelta = timedelta(hours=24)
    # how long SQS may still deliver an uploads/ object's event: UploadQueue's message retention
    # (SQS's default, 4 days), which bounds visibility timeout x maxReceiveCount too
    upload_event_window: timedelta = timedelta(days=4)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> SweepLimits:
        """SWEEPER_GRACE_MINUTES, SWEEPER_UPLOAD_AGE_HOURS (template parameters) and
        SWEEPER_UPLOAD_EVENT_WINDOW_SECONDS (the template's UploadQueue), else the defaults."""
        env = variables(SWEEPER_VARIABLES) if env is None else env
        defaults = cls()
        grace = env.get("SWEEPER_GRACE_MINUTES")
        age = env.get("SWEEPER_UPLOAD_AGE_HOURS")
        window = env.get("SWEEPER_UPLOAD_EVENT_WINDOW_SECONDS")
        return cls(
            grace=timedelta(minutes=float(grace)) if grace else defaults.grace,
            upload_age=timedelta(hours=float(age)) if age else defaults.upload_age,
            upload_event_window=timedelta(seconds=float(window)) if window else defaults.upload_event_window,
        )


@dataclass
class SweepReport:
    imports_reverted: int = 0
    tasks_failed: int = 0
    staged_objects_deleted: int = 0
    stored_objects_deleted: int = 0
    uploads_aborted: int = 0
    # 5. quota counters recomputed from the records (quotas/repair.py): projects found off, and put right
    counters_drifted: int = 0
    counters_repaired: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(
    ports: Ports,
    settings: Settings,
    clock: locks.Clock = locks.system_clock,
    limits: SweepLimits | None = None,
) -> SweepReport:
    limits = limits or SweepLimits()
    now = clock()
    report = SweepReport()
    if ports.workflow is None:
        logger.warning("no state machine configured: stuck imports and tasks are not checked")
    else:
        _revert_dead_imports(ports, settings, now, limits, report)
        _fail_dead_tasks(ports, settings, now, limits, report)
    # staged residue of an active image (a cleanup step failed after completion) goes here too
    report.staged_objects_deleted = _delete_unreferenced(ports.staging, ports, USES_STAGED_DATA, now, limits)
    report.stored_objects_deleted = _delete_unreferenced(ports.store, ports, USES_STORED_DATA, now, limits)
    for bucket in (ports.staging, ports.store):
        report.uploads_aborted += _abort_old_uploads(bucket, ports, now, limits)
    for store_id, bucket in further_store_buckets(settings, ports):  # multi-store: the operator's, images/ only
        report.stored_objects_deleted += _delete_unreferenced(
            bucket, ports, USES_STORED_DATA, now, limits, prefix=STORE_PREFIX, store_id=store_id
        )
        report.uploads_aborted += _abort_old_uploads(bucket, ports, now, limits, prefix=STORE_PREFIX)
    for drift in repair_counters(ports.usage, ports.image_index, now, limits.grace):
        report.counters_drifted += 1
        report.counters_repaired += drift.repaired
        logger.warning("quota counters drifted from the records", extra=drift.as_dict())
    logger.info("sweep done", extra=report.as_dict())
    return report


def _execution_state(ports: Ports, image_id: str, task_id: str) -> str:
    status = ports.workflow.status(execution_name(image_id, task_id))
    return status or "never started"


def _old(stamp: str | None, now: datetime, age: timedelta) -> bool:
    return stamp is None or now - parse_time(stamp) >= age


def _last_change_before(now: datetime, limits: SweepLimits) -> str:
    """The newest ``updated_at`` a candidate may have: whatever changed within ``grace`` is alive or just
    ended, and waits for the next pass."""
    return utc_stamp(now - limits.grace)


def _unfinished_tasks(ports: Ports, now: datetime, limits: SweepLimits) -> Iterator[Task]:
    before = _last_change_before(now, limits)
    for status in UNFINISHED_TASKS:
        yield from ports.tasks.in_status(status, before)


def _locked_candidates(ports: Ports, now: datetime, limits: SweepLimits) -> Iterator[Image]:
    """Every image whose lock may belong to a dead execution: the ``importing`` ones, and the images of
    unfinished tasks (a copy-image locks an ``active`` image, which no status can single out)."""
    seen: set[str] = set()
    for image in ports.image_index.in_status(lifecycle.IMPORTING, _last_change_before(now, limits)):
        seen.add(image.id)
        yield image
    task_images = {task.image_id for task in _unfinished_tasks(ports, now, limits)} - seen
    if task_images:
        yield from ports.image_index.by_ids(sorted(task_images)).values()


def _revert_dead_imports(ports: Ports, settings: Settings, now: datetime, limits: SweepLimits, report) -> None:
    for image in _locked_candidates(ports, now, limits):
        if image.import_lock is None:
            continue
        task_id = image.import_lock.task_id
        state = _execution_state(ports, image.id, task_id)
        if state == RUNNING or (state == "never started" and not _old(image.import_lock.taken_at, now, limits.grace)):
            continue
        # the execution may have finished since the scan: judge the records as they are now
        current = ports.images.get(image.id)
        if current is None or current.import_lock is None or current.import_lock.task_id != task_id:
            continue
        task = ports.tasks.get(task_id)
        if task is not None and task.status == "success":
            continue
        reason = f"Import failed: its workflow execution {_describe(state)}; the sweeper reverted it"
        try:
            # what the records say of the import; no state says how far it got, so every step may have run
            revert(_import_of(image, task_id, task), settings, ports, failed_in=LOST_EXECUTION, reason=reason)
        except TaskAborted as exc:  # e.g. the task record is gone: the image was still restored
            logger.warning("revert incomplete", extra={"image_id": image.id, "task_id": task_id, "reason": str(exc)})
        report.imports_reverted += 1
        logger.warning("reverted a dead import", extra={"image_id": image.id, "task_id": task_id, "execution": state})


def _fail_dead_tasks(ports: Ports, settings: Settings, now: datetime, limits: SweepLimits, report) -> None:
    for task in _unfinished_tasks(ports, now, limits):
        if task.ended:  # an index read may lag the record
            continue
        state = _execution_state(ports, task.image_id, task.id)
        if state == RUNNING or (state == "never started" and not _old(task.created_at, now, limits.grace)):
            continue
        # task_outcome re-reads the task and leaves it alone if it finished since the scan
        message = f"Import failed: its workflow execution {_describe(state)} before the task finished."
        try:
            failed = task_outcome.fail(ports, task.id, message, now, settings)
        except TaskAborted:  # it kept changing: alive after all, or the next pass sees it
            continue
        if failed is not None:
            report.tasks_failed += 1
            logger.warning("failed a dead task", extra={"task_id": task.id, "image_id": task.image_id})


def _batches(entries: Iterable, size: int = LOOKUP_BATCH) -> Iterator[list]:
    batch: list = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _images_of(ports: Ports, keys: Iterable[str]) -> dict[str, Image]:
    """The images these objects belong to, those that exist (no record, or a tombstone: unreferenced)."""
    ids = sorted({image_id for key in keys if (image_id := image_id_of_key(key))})
    return ports.image_index.by_ids(ids) if ids else {}


def _delete_unreferenced(
    bucket: ObjectBucket,
    ports: Ports,
    uses: tuple[str, ...],
    now: datetime,
    limits: SweepLimits,
    prefix: str = "",
    store_id: str | None = None,
) -> int:
    """``store_id`` (a further store's bucket): an image's object there is kept only while the image is in
    that store, or an import or copy holds its lock (a copy writes the store before the image lists it)."""
    deleted = 0
    old_enough = ((key, modified) for key, modified in bucket.listing(prefix) if now - modified >= limits.grace)
    for batch in _batches(old_enough):  # a bucket of any size, one batch of lookups at a time
        images = _images_of(ports, (key for key, _ in batch))
        for key, modified in batch:
            image_id = image_id_of_key(key)
            image = images.get(image_id) if image_id else None
            in_store = store_id is None or (
                image is not None and (store_id in image.stores or image.import_lock is not None)
            )
            if image is not None and image.status in uses and in_store:
                continue
            if (
                key.startswith(UPLOAD_PREFIX)
                and image is not None
                and image.status == lifecycle.QUEUED
                and now - modified < limits.upload_event_window
            ):
                continue  # its upload event may still arrive from the queue
            bucket.delete(key)
            deleted += 1
            logger.warning("deleted an unreferenced object", extra={"bucket": bucket.name, "key": key})
    return deleted


def _abort_old_uploads(bucket: ObjectBucket, ports: Ports, now: datetime, limits: SweepLimits, prefix: str = "") -> int:
    aborted = 0
    # an operator's bucket: only the service's images/ are its business
    old_enough = (
        (key, upload_id)
        for key, upload_id, initiated in bucket.uploads()
        if key.startswith(prefix) and now - initiated >= limits.upload_age
    )
    for batch in _batches(old_enough):
        images = _images_of(ports, (key for key, _ in batch))
        for key, upload_id in batch:
            image = images.get(image_id_of_key(key) or "")
            if image is not None and image.status == lifecycle.IMPORTING and not key.startswith(UPLOAD_PREFIX):
                # a copy or download in passes of a live import (dead ones were reverted above): however
                # old, its upload is still being written
                continue
            bucket.abort_multipart(key, upload_id)
            aborted += 1
            logger.warning("aborted an abandoned multipart upload", extra={"bucket": bucket.name, "key": key})
    return aborted


def _describe(state: str) -> str:
    return "never started" if state == "never started" else f"ended ({state})"


def _import_of(image: Image, task_id: str, task: Task | None) -> ImportJob:
    """The import as its records describe it (the image, its lock's task and the task's request), built by
    the one builder the API's start uses; how far it got is not known."""
    context = RequestContext(
        user_id=task.user_id if task else None,
        project_id=task.owner if task else image.owner,
        roles=[],
        request_id=(task.request_id or "") if task else "",
    )
    method = ((task.input.get("import_req") or {}).get("method") or {}).get("name") if task else None
    method = method or "glance-direct"
    return import_job(
        image, task_id, method, context, **job_stores(method, task.input.get("backend") if task else None)
    )

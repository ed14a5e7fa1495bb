"""The import workflow's steps, in Glance's order.

verify staging -> plugins (configured order) -> import to store -> complete -> delete staging;
any failure before the image is active -> revert (workflow/revert.py). Staging is deleted only
once the image is active, so a failed completion still has the staged data a retry needs. Each step takes and returns the workflow document
(ids and keys only).
"""

from __future__ import annotations

from image_import import metrics, notifications
from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, ImportFailed, SourceChanged, TaskAborted
from image_import.images import task_outcome
from image_import.models import Image, ImportJob, Task, lifecycle
from image_import.models.image import InspectedFormats
from image_import.models.job import KnownDigests
from image_import.models.time import utcnow
from image_import.plugins.base import PluginJob
from image_import.plugins.registry import plugin_for
from image_import.settings import Settings
from image_import.steps.actions import ImageActions
from image_import.steps.progress import Progress
from image_import.stores import marks
from image_import.stores.buckets import bucket_of, discard
from image_import.stores.marks import COPY_IMAGE
from image_import.transfer import passes
from image_import.transfer.hashing import Digests, ParallelHasher
from image_import.transfer.inspection import FormatCheck, FormatOptions, inspect_object
from image_import.transfer.layout import store_key


def verify_staging(job: ImportJob, settings: Settings, ports: Ports) -> ImportJob:
    actions = ImageActions(ports, job.image_id, job.task_id)
    image = actions.current()
    set_processing(job, settings, ports)
    staged = ports.staging.size(job.staging_key)
    if staged is None:
        raise ImportFailed(f"No staged data found for image {job.image_id}")
    if image.size is not None and image.size != staged:
        raise ImportFailed(f"Image size mismatch. Expected {image.size} but got {staged}")
    return job


def set_processing(job: ImportJob, settings: Settings, ports: Ports) -> None:
    """The first step of an import marks its task 'processing' (and says so once: task.processing)."""
    before: list[str] = []

    def processing(task: Task) -> None:
        before[:] = [task.status]
        task.status = "processing"

    task = update_task(ports, job.task_id, processing)
    if before != ["processing"]:
        notifications.task_event("task.processing", task, ports, settings)


def run_plugin(name: str, job: ImportJob, settings: Settings, ports: Ports, deadline: float | None = None) -> ImportJob:
    plugin = plugin_for(name, settings)
    given = plugin_job(job, ports, name, deadline, settings)
    plugin.execute(given)
    # a data plugin's replacement is what every later step reads (plugins/base.py)
    done = job.plugins
    replacements = [*done.replacements, given.replaced_by] if given.replaced_by else done.replacements
    return job.with_slice("plugins", done=[*done.done, name], replacements=replacements)


def import_to_store(job: ImportJob, settings: Settings, ports: Ports, deadline: float | None = None) -> ImportJob:
    """One pass of the copy into the store (transfer/passes.py); the state machine calls it until it is done.

    The first pass inspects the staged data (a few MiB, by range) before a byte is copied; the last one
    records size, checksum, multihash and virtual size on the image, as Glance does at the end of its
    single read.
    """
    actions = ImageActions.of(job, ports, settings)
    image = actions.current()  # fail fast if the image is gone or the lock was lost
    key = store_key(job.image_id)
    first_store = job.stores[0] if job.stores else None  # multi-store: hashed here, copied on by the Map state
    store = bucket_of(first_store, settings, ports)
    # revert removes it whatever happens below
    job = job.model_copy(update={"source_store": first_store}).with_slice("store", key=key)
    state = job.store.progress
    staged_digests = job.download.digests if job.download is not None else None
    known = None
    if state is None:
        state, known = _first_pass_state(job, image, settings, ports)
        notifications.image_event("image.prepare", image, ports, settings, with_import=True)
    elif staged_digests is not None and staged_digests.etag == state.source_etag:
        known = staged_digests
    # a web-download's validation_data may name another algorithm: Glance then hashes and records that one
    algorithm = image.os_hash_algo or settings.hashing_algorithm
    if known is not None:
        hasher = None
    elif state.hashing is not None:
        hasher = ParallelHasher.resume(state.hashing)
    else:
        hasher = ParallelHasher(algorithm)
    progress = Progress(ports, job.task_id, start=state.offset)
    copier = passes.CopyPass(ports.staging, job.data_key, store, key, hasher=hasher, on_bytes=progress.add)
    try:
        progress.report()
        state = copier.run(
            state, passes.pass_bytes(state, settings.max_bytes_per_pass, hasher), deadline or _no_deadline()
        )
        progress.report()
        digests = (hasher.finish() if hasher else _known(known)) if state.done else None
    except ImportFailed:
        discard(store, key)  # nothing half-written stays; a PassInterrupted keeps it for the retry
        raise
    finally:
        if hasher is not None:
            hasher.close()
    job = job.with_slice("store", progress=state)
    if digests is None:
        return job
    if digests.size != state.size:
        raise ImportFailed(f"Read {digests.size} bytes of the staged data, expected {state.size}")
    inspected = InspectedFormats(disk_format=state.disk_format, container_format=state.container_format)

    def record(image: Image) -> None:
        check_inspected_as(image, inspected)
        check_expected(image, digests)
        image.size, image.checksum = digests.size, digests.checksum
        image.os_hash_algo, image.os_hash_value = digests.hash_algo, digests.hash_value
        image.virtual_size = state.virtual_size
        image.inspected_as, image.arriving = inspected, 0  # a download's bytes are now the image's size
        if first_store is not None:
            marks.store_written(image, first_store, settings)

    try:
        recorded = actions.apply(record)
    except ImportFailed:
        discard(store, key)
        raise
    notifications.image_event("image.upload", recorded, ports, settings, with_import=True)
    return job


def store_pass(job: ImportJob, settings: Settings, ports: Ports, deadline: float | None = None) -> ImportJob:
    """The ImportToStore function's pass: from staging into the first store, or (a Map iteration naming its
    ``target_store``) from the first store into another."""
    step = copy_to_store if job.target_store else import_to_store
    return step(job, settings, ports, deadline)


def copy_to_store(job: ImportJob, settings: Settings, ports: Ports, deadline: float | None = None) -> ImportJob:
    """One pass of the copy of an image's data from ``job.source_store`` into ``job.target_store`` (one
    iteration of the Map state): server-side, never re-hashed (the image's digests are known), in the target
    bucket's region. The image gains the store when the copy is done; a copy that fails is reported on the
    image (``os_glance_failed_import``) and leaves nothing in the target."""
    assert job.target_store is not None
    target_store: str = job.target_store
    actions = ImageActions.of(job, ports, settings)
    image = actions.current()
    key = store_key(job.image_id)
    source = bucket_of(job.source_store, settings, ports)
    target = bucket_of(target_store, settings, ports)
    state = job.store.progress
    try:
        if state is None:
            head = source.head(key)
            if head is None or image.size is None or head[0] != image.size:
                raise ImportFailed(f"The image's data is not in store '{job.source_store}'")
            state = passes.start(head[0], head[1], settings.max_bytes_per_pass, None)
        copier = passes.CopyPass(source, key, target, key, hasher=None)
        state = copier.run(
            state, passes.pass_bytes(state, settings.max_bytes_per_pass, None), deadline or _no_deadline()
        )
    except ImportFailed:
        discard(target, key)
        actions.apply(lambda image: marks.store_failed(image, target_store))
        raise
    if state.done:
        actions.apply(lambda image: marks.store_written(image, target_store, settings))
    return job.with_slice("store", progress=state)


def check_inspected_as(image: Image, inspected: InspectedFormats | None) -> None:
    """The formats the record says now must be the ones the data was inspected as: inspection of one
    format says nothing about another (an ``ovf`` container is not inspected at all), so a format changed
    after inspection must never reach ``active``."""
    if inspected is None:
        raise ImportFailed("The image's data was not inspected; import the image again")
    if image.formats() != inspected:
        raise ImportFailed(
            f"disk_format or container_format changed after the data was inspected as "
            f"{inspected.disk_format}/{inspected.container_format}; import the image again"
        )


def check_expected(image: Image, digests: Digests) -> None:
    """What the image already says (a size, a checksum, validation_data's digest) must be what the data is,
    in Glance's words."""
    for attribute, value in (
        ("size", digests.size),
        ("checksum", digests.checksum),
        ("os_hash_value", digests.hash_value),
    ):
        current = getattr(image, attribute)
        if current is not None and current != value and attribute == "os_hash_value":
            raise ImportFailed(
                f"os_hash_value: ({current}) not matched with actual {digests.hash_algo} os_hash_value: ({value})"
            )
        if current is not None and current != value:
            raise ImportFailed(f"{attribute} of uploaded data is different from current value set on the image.")


def _first_pass_state(job: ImportJob, image: Image, settings: Settings, ports: Ports):
    """The copy's starting state: what is staged (pinned by its ETag), inspected before anything is copied."""
    head = ports.staging.head(job.data_key)  # a data plugin's replacement, else the staged object
    if head is None:
        raise ImportFailed(f"No staged data found for image {job.image_id}")
    size, etag = head
    if size > settings.image_size_cap:
        raise ImportFailed(f"Image exceeds the size cap of {settings.image_size_cap} bytes")
    staged = job.download.digests if job.download is not None else None
    known = staged if staged is not None and staged.etag == etag else None
    check = FormatCheck(image.disk_format, image.container_format, FormatOptions.of(settings))
    try:
        virtual_size = inspect_object(
            check, size, lambda first, last: ports.staging.read(job.data_key, first, last, etag)
        )
    except SourceChanged:
        raise ImportFailed("The staged data changed during the import; stage it again") from None
    algorithm = None if known is not None else image.os_hash_algo or settings.hashing_algorithm
    state = passes.start(size, etag, settings.max_bytes_per_pass, algorithm)
    inspected = {
        "virtual_size": virtual_size,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
    }
    return state.model_copy(update=inspected), known


def _known(known: KnownDigests | None) -> Digests:
    assert known is not None
    return Digests(known.size, known.checksum, known.hash_algo, known.hash_value)


def _no_deadline() -> float:
    import time

    return time.monotonic() + 1e9


def delete_staging(job: ImportJob, ports: Ports) -> ImportJob:
    """Cleanup after completion: a failure here leaves the image active (the sweeper removes the residue)."""
    ports.staging.delete(job.staging_key)
    for key in job.plugins.replacements:  # what data plugins wrote in its place
        ports.staging.delete(key)
    return job


def complete(job: ImportJob, ports: Ports, settings: Settings | None = None) -> ImportJob:
    actions = ImageActions.of(job, ports, settings)
    failed = _failed_copies(job, settings, ports) if job.copy_targets else []

    activated: list[Image] = []

    def activate(image: Image) -> None:
        if image.checksum is None:
            raise ImportFailed("None of the uploads finished!")
        if job.method != COPY_IMAGE or image.inspected_as is not None:  # an image active before this record kept it
            check_inspected_as(image, image.inspected_as)
        for store in failed:
            marks.store_failed(image, store)
        if failed and job.all_stores_must_succeed:
            raise ImportFailed(f"Import to the stores {', '.join(failed)} failed; all_stores_must_succeed is true")
        if image.status != lifecycle.ACTIVE:  # copy-image: the image stays active
            lifecycle.move(image, "activate")
        image.import_lock = None
        activated[:] = [image]

    active = actions.apply(activate)
    actions.release_overruns(active.owner)
    notifications.image_event("image.activate", active, ports)
    notifications.image_event("image.update", active, ports)
    record_success(job, ports)
    metrics.import_succeeded(job.method, activated[0].size or 0)
    return job


def _failed_copies(job: ImportJob, settings: Settings | None, ports: Ports) -> list[str]:
    """The Map state's stores whose copy failed (every one, if the Map reported nothing); what a failed copy
    left in its store is removed here (a copy that reported its failure already removed it)."""
    results = job.store_results or []
    succeeded = {r.get("store") for r in results if not r.get("error")}
    failed = [s for s in job.copy_targets if s not in succeeded]
    if failed and settings is not None:
        key = store_key(job.image_id)
        for store in failed:
            discard(bucket_of(store, settings, ports), key)
    return failed


def record_success(job: ImportJob, ports: Ports) -> None:
    """The task of an import whose image is active: success."""
    task_outcome.succeed(ports, job.task_id, {"image_id": job.image_id})


def plugin_job(
    job: ImportJob, ports: Ports, plugin: str = "", deadline: float | None = None, settings: Settings | None = None
) -> PluginJob:
    given = PluginJob(
        task_id=job.task_id,
        method=job.method,
        context=job.context,
        staging_key=job.data_key,
        actions=ImageActions.of(job, ports, settings),
        staging=ports.staging,
        plugin=plugin,
    )
    if deadline is not None:
        given.deadline = deadline
    return given


def update_task(ports: Ports, task_id: str, change) -> Task:
    def edit(task: Task | None) -> bool:
        if task is None:
            raise TaskAborted(f"Task {task_id} does not exist")
        change(task)
        task.updated_at = utcnow()
        return True

    try:
        task = ports.tasks.edit(task_id, edit, attempts=8)
    except ConcurrentUpdate:
        raise TaskAborted(f"Task {task_id} kept changing; giving up") from None
    assert task is not None  # edit() always saves: None only when a change declines
    return task

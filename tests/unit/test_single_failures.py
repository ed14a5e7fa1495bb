"""Nothing lost on any single failure or race: revert after completion, the sweeper's races, a delete
racing a PATCH protected=true, and a second import landing between the lock write and the task write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_import.errors import ConcurrentUpdate, Conflict, Forbidden, TaskAborted
from image_import.images.catalog import delete_image
from image_import.images.update import PATCH_V21, update_image
from image_import.models import Image, ImportJob
from image_import.models.job import StepError
from image_import.steps import work as steps
from image_import.workflow import locks
from image_import.workflow.revert import revert
from image_import.workflow.start import execution_name, start_import
from image_import.workflow.sweeper import SweepLimits, sweep
from tests.support.fakes import FakeWorkflow, fake_ports
from tests.support.imports import GLANCE_DIRECT, MEMBER, run_job, staged_image

LATER = datetime.now(UTC) + timedelta(hours=1)
FAULT = StepError(Error="InjectedFault", Cause='{"errorMessage": "injected"}')
IMAGE_ID = "0a3c5f0e-0000-4000-8000-000000000000"


def at(moment):
    return lambda: moment


def through_store(ports, settings, image_id) -> ImportJob:
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    for name in settings.image_import_plugins:
        job = steps.run_plugin(name, job, settings, ports)
    return steps.import_to_store(job, settings, ports)


# ---------------------------------------------------------------- revert once the image is active


def test_a_revert_after_completion_leaves_the_active_image_and_its_successful_task(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings, b"hello")
    job = steps.complete(through_store(ports, settings, image_id), ports)
    revert(job.model_copy(update={"error": FAULT}), settings, ports)
    image, task = ports.images.get(image_id), ports.tasks.get(job.task_id)
    assert image.status == "active" and image.checksum is not None
    assert f"images/{image_id}" in ports.store.objects
    assert task.status == "success" and task.result == {"image_id": image_id}


def test_a_completion_cut_short_before_the_task_write_is_finished_by_the_revert(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings, b"hello")
    job = through_store(ports, settings, image_id)
    edit = ports.tasks.edit
    ports.tasks.edit = lambda *a, **k: (_ for _ in ()).throw(ConcurrentUpdate("tasks table unavailable"))
    with pytest.raises(TaskAborted):
        steps.complete(job, ports)  # the image became active; the task write failed
    ports.tasks.edit = edit
    revert(job.model_copy(update={"error": FAULT}), settings, ports)
    assert ports.images.get(image_id).status == "active"
    assert f"images/{image_id}" in ports.store.objects
    task = ports.tasks.get(job.task_id)
    assert task.status == "success" and task.result == {"image_id": image_id}


# ---------------------------------------------------------------- the sweeper's races


class CompletingWorkflow(FakeWorkflow):
    """DescribeExecution answers after the execution finished: the import completed between the scan and it."""

    def __init__(self, ports, settings, job: ImportJob):
        super().__init__()
        self.ports, self.settings, self.job, self.done = ports, settings, job, False

    def status(self, name):
        if not self.done:
            self.done = True
            steps.delete_staging(steps.complete(self.job, self.ports), self.ports)
        return "SUCCEEDED"


def test_an_import_that_completes_while_the_sweeper_looks_is_left_a_success(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings, b"hello")
    job = through_store(ports, settings, image_id)
    ports = ports.__class__(**{**ports.__dict__, "workflow": CompletingWorkflow(ports, settings, job)})
    report = sweep(ports, settings, clock=at(LATER))
    assert ports.tasks.get(job.task_id).status == "success"
    image = ports.images.get(image_id)
    assert image.status == "active" and f"images/{image_id}" in ports.store.objects
    assert report.imports_reverted == 0 and report.tasks_failed == 0


def test_staged_residue_of_an_active_image_is_removed(settings):
    ports = fake_ports()
    ports.images.create(Image(id=IMAGE_ID, status="active"))
    ports.staging.put(f"staging/{IMAGE_ID}", b"abc")  # DeleteStaging failed after completion
    sweep(ports, settings, clock=at(LATER))
    assert ports.staging.objects == {}


def test_a_direct_upload_of_a_queued_image_is_kept_while_its_event_may_still_arrive(settings):
    ports = fake_ports()
    ports.images.create(Image(id=IMAGE_ID, status="queued"))
    ports.staging.put(f"uploads/{IMAGE_ID}", b"abc")  # the ObjectCreated event is still in the queue
    limits = SweepLimits(grace=timedelta(minutes=15), upload_event_window=timedelta(hours=4))
    sweep(ports, settings, clock=at(datetime.now(UTC) + timedelta(hours=3)), limits=limits)
    assert list(ports.staging.objects) == [f"uploads/{IMAGE_ID}"]


def test_a_direct_upload_of_a_queued_image_older_than_the_event_window_is_removed(settings):
    ports = fake_ports()
    ports.images.create(Image(id=IMAGE_ID, status="queued"))
    ports.staging.put(f"uploads/{IMAGE_ID}", b"abc")
    limits = SweepLimits(grace=timedelta(minutes=15), upload_event_window=timedelta(hours=4))
    sweep(ports, settings, clock=at(datetime.now(UTC) + timedelta(hours=5)), limits=limits)
    assert ports.staging.objects == {}


def test_the_upload_event_window_comes_from_the_functions_environment():
    limits = SweepLimits.from_environment({"SWEEPER_UPLOAD_EVENT_WINDOW_SECONDS": "1800"})
    assert limits.upload_event_window == timedelta(minutes=30)
    assert SweepLimits().upload_event_window == timedelta(days=4)  # SQS's default message retention


# ---------------------------------------------------------------- DELETE racing PATCH protected=true


def patch(ports, settings, image_id, path, value):
    update_image(MEMBER, image_id, PATCH_V21, [{"op": "replace", "path": path, "value": value}], settings, ports)


def protect_between_read_and_delete(ports, settings, image_id):
    """The PATCH lands after DELETE read the image and before it deletes it (once)."""
    get, fired = ports.images.get, []

    def racing_get(key):
        image = get(key)
        if not fired:
            fired.append(True)
            patch(ports, settings, image_id, "/protected", True)
        return image

    ports.images.get = racing_get


def test_a_delete_that_loses_to_a_concurrent_protect_is_refused(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    protect_between_read_and_delete(ports, settings, image_id)
    with pytest.raises(Forbidden, match=f"Image {image_id} is protected and cannot be deleted"):
        delete_image(MEMBER, image_id, ports, settings)
    assert ports.images.items[image_id].protected
    assert f"staging/{image_id}" in ports.staging.objects


def test_a_delete_that_loses_to_another_change_retries_and_deletes(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    get, fired = ports.images.get, []

    def racing_get(key):
        image = get(key)
        if not fired:
            fired.append(True)
            patch(ports, settings, image_id, "/name", "renamed")
        return image

    ports.images.get = racing_get
    delete_image(MEMBER, image_id, ports, settings)
    assert image_id not in ports.images.items and ports.staging.objects == {}


def test_the_conditional_delete_refuses_a_protected_record(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    image = ports.images.get(image_id)
    image.protected = True
    ports.images.save(image)
    with pytest.raises(ConcurrentUpdate):
        ports.images.delete(image_id, expected_version=image.version)
    assert image_id in ports.images.items


# ---------------------------------------------------------------- a second import between lock and task


def test_a_second_import_between_the_lock_write_and_the_task_write_is_refused(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    create, second = ports.tasks.create, []

    def racing_create(task):
        if not second:  # the second POST /import lands now: the lock is written, its task not yet
            second.append(True)
            with pytest.raises(Conflict):  # 409, as for any image whose import is under way
                start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
        create(task)

    ports.tasks.create = racing_create
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    assert second and ports.images.get(image_id).import_lock.task_id == task.id
    assert [name for name, _ in ports.workflow.started] == [execution_name(image_id, task.id)]


def test_a_lock_without_its_task_is_stale_once_the_grace_period_is_over(settings):
    from tests.support.locks import T0, locked_image

    ports = fake_ports()
    image_id = locked_image(ports, settings, with_task=False)
    with pytest.raises(Conflict):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(seconds=30)))
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + locks.TASKLESS_LOCK_GRACE))
    assert ports.images.get(image_id).import_lock.task_id == task.id

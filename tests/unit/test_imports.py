"""Starting an import and running its steps against in-memory adapters."""

from __future__ import annotations

import hashlib
import os

import pytest

from image_import.errors import Conflict, ImportFailed, RequestEntityTooLarge, ServiceUnavailable, TaskAborted
from image_import.models import ImportJob, Task
from image_import.models.image import ImportLock, utcnow
from image_import.models.job import StepError
from image_import.steps import work as steps
from image_import.steps.chain import build_chain
from image_import.workflow import revert
from image_import.workflow.start import execution_name, start_import
from tests.support.fakes import FakeWorkflow, fake_ports
from tests.support.imports import GLANCE_DIRECT, MEMBER, run_job, staged_image
from tests.support.records import in_memory


def test_starting_an_import_locks_the_image_records_the_task_and_starts_one_named_execution(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    image = ports.images.get(image_id)
    assert image.status == "importing"
    assert image.import_lock.task_id == task.id
    assert ports.tasks.get(task.id).input == {"image_id": image_id, "import_req": GLANCE_DIRECT, "backend": [None]}
    [(name, document)] = ports.workflow.started
    assert name == execution_name(image_id, task.id) == f"{image_id}-{task.id}"
    assert document["context"]["roles"] == ["member", "reader"]
    assert document["staging_key"] == f"staging/{image_id}"


def test_of_two_concurrent_imports_only_one_wins_the_lock(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    before = ports.images.get(image_id)  # both requests read the image before either writes
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    original_get = ports.images.get
    ports.images.get = lambda key: before.model_copy(deep=True) if key == image_id else original_get(key)
    with pytest.raises(Conflict, match="prior operation is still in progress"):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    assert len(ports.workflow.started) == 1


def test_an_image_whose_lock_is_held_refuses_another_import(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    now = utcnow()
    # a live task: the lock is not stale (a lock without its task would be taken over at once)
    ports.tasks.create(Task(id="other", image_id=image_id, status="processing", created_at=now, updated_at=now))
    image = ports.images.get(image_id)
    image.import_lock = ImportLock(task_id="other", taken_at=now)
    ports.images.save(image)
    with pytest.raises(Conflict, match="Image has active task"):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)


def test_a_workflow_that_cannot_start_leaves_the_image_staged_and_unlocked(settings):
    ports = fake_ports(FakeWorkflow(fail=RuntimeError("throttled")))
    image_id = staged_image(ports, settings)
    with pytest.raises(ServiceUnavailable):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    image = ports.images.get(image_id)
    assert image.status == "uploading" and image.import_lock is None
    [task] = in_memory(ports.tasks)
    assert task.status == "failure" and "could not be started" in task.message


def test_an_import_request_too_large_to_record_is_413_before_the_image_is_locked(settings):
    from image_import.workflow.start import MAX_IMPORT_REQUEST

    padding = "p" * (MAX_IMPORT_REQUEST - len('{"method":{"name":"glance-direct"},"padding":""}'))
    ports = fake_ports()
    start_import(MEMBER, staged_image(ports, settings), {**GLANCE_DIRECT, "padding": padding}, settings, ports)
    assert len(ports.workflow.started) == 1  # at the limit: recorded and started
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    before = ports.images.get(image_id)
    with pytest.raises(RequestEntityTooLarge, match=f"{MAX_IMPORT_REQUEST + 1} bytes as JSON, at most"):
        start_import(MEMBER, image_id, {**GLANCE_DIRECT, "padding": padding + "p"}, settings, ports)
    assert ports.images.get(image_id) == before and in_memory(ports.tasks) == [] and ports.workflow.started == []


def test_a_task_record_the_table_refuses_as_too_large_is_413_not_try_again_later(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)

    def refuse(task):
        raise RequestEntityTooLarge(f"Task {task.id} is too large to store")

    ports.tasks.create = refuse
    with pytest.raises(RequestEntityTooLarge):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    image = ports.images.get(image_id)
    assert image.status == "uploading" and image.import_lock is None and ports.workflow.started == []


def test_the_first_step_sends_task_processing_with_the_settings_it_was_given(settings, monkeypatch):
    import dataclasses

    from image_import import composition
    from tests.support.notifications import FlakyBus

    ports = fake_ports()
    job = run_job(ports, settings, staged_image(ports, settings))
    ports = dataclasses.replace(ports, events=FlakyBus(failures=0))
    monkeypatch.setenv("IMAGE_IMPORT_CONFIG_DIR", "/nonexistent")  # a second lookup would find no settings
    composition.reset()
    try:
        steps.verify_staging(job, dataclasses.replace(settings, publisher_id="image.given"), ports)
    finally:
        composition.reset()
    [event] = ports.events.published
    assert (event["event_type"], event["publisher_id"]) == ("task.processing", "image.given")


def test_the_steps_take_an_image_from_staged_to_active(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings, b"hello world")
    job = run_job(ports, settings, image_id)
    job = steps.verify_staging(job, settings, ports)
    for name in settings.image_import_plugins:
        job = steps.run_plugin(name, job, settings, ports)
    job = steps.import_to_store(job, settings, ports)
    job = steps.delete_staging(job, ports)
    steps.complete(job, ports)
    image = ports.images.get(image_id)
    assert image.status == "active" and image.import_lock is None
    assert image.checksum == hashlib.md5(b"hello world").hexdigest()
    assert image.os_hash_value == hashlib.sha512(b"hello world").hexdigest()
    assert image.properties["property1"] == "value1"
    assert ports.store.objects == {f"images/{image_id}": b"hello world"}
    assert ports.staging.objects == {}
    assert job.plugins.done == ["no_op", "inject_image_metadata"]


def test_a_preset_checksum_that_differs_fails_the_store_step_and_keeps_nothing(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    image = ports.images.get(image_id)
    image.checksum = "0" * 32
    ports.images.save(image)
    with pytest.raises(ImportFailed, match="checksum of uploaded data is different"):
        steps.import_to_store(job, settings, ports)
    assert ports.store.objects == {}


def test_a_step_aborts_when_the_image_was_deleted_meanwhile(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    job = run_job(ports, settings, image_id)
    ports.images.delete(image_id)
    with pytest.raises(TaskAborted, match="deleted"):
        steps.import_to_store(job, settings, ports)


def test_revert_after_a_store_failure_removes_the_stored_object_and_unlocks(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    job = steps.import_to_store(
        steps.verify_staging(run_job(ports, settings, image_id), settings, ports), settings, ports
    )
    failed = job.model_copy(
        update={
            "error": StepError(
                Error="ImportFailed", Cause='{"errorMessage": "store went away", "errorType": "ImportFailed"}'
            )
        }
    )
    revert.revert(failed, settings, ports)
    image = ports.images.get(image_id)
    assert image.status == "uploading" and image.import_lock is None and image.checksum is None
    assert ports.store.objects == {}
    assert f"staging/{image_id}" in ports.staging.objects
    [task] = in_memory(ports.tasks)
    assert task.status == "failure"
    assert task.message.startswith("Import failed: store went away.")


def test_revert_of_a_deleted_image_only_cleans_up(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    job = steps.import_to_store(
        steps.verify_staging(run_job(ports, settings, image_id), settings, ports), settings, ports
    )
    ports.images.delete(image_id)
    revert.revert(job.model_copy(update={"error": StepError(Error="TaskAborted")}), settings, ports)
    assert ports.store.objects == {}
    assert ports.images.get(image_id) is None
    assert "deleted during the import" in in_memory(ports.tasks)[0].message


@pytest.mark.parametrize(
    "error, expected",
    [
        (StepError(Error="States.Timeout"), "a step timed out"),
        (StepError(Error="KeyError", Cause='{"errorMessage": "\'x\'"}'), "internal error (KeyError"),
        (StepError(Error="ImportFailed", Cause="not json"), "Import failed: not json"),
    ],
)
def test_failure_reasons_are_sentences_a_person_can_act_on(error, expected):
    job = ImportJob(image_id="i", task_id="t", context=MEMBER, staging_key="k", error=error)
    assert expected in revert.failure_reason(job)


def test_revert_clears_the_store_key_even_when_the_failing_step_never_reported_it(settings):
    # a store step that timed out after writing: its output (with store_key) never reached revert
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    ports.store.put(f"images/{image_id}", b"abc")
    # what the state machine hands the revert: the states before the store step finished, nothing more
    states = build_chain(settings).states()
    before_store = [s for s in states[: states.index("ImportToStore")] if s != "WebDownload"]
    failed = job.model_copy(update={"error": StepError(Error="Sandbox.Timedout"), "steps_done": before_store})
    revert.revert(failed, settings, ports)
    assert ports.store.objects == {}
    assert "a step timed out" in in_memory(ports.tasks)[0].message


def test_the_store_step_moves_its_data_in_passes_and_its_task_counts_every_pass(settings):
    import dataclasses
    import json

    from image_import.models import ImportJob

    data = os.urandom(20 * 1024 * 1024)
    settings = dataclasses.replace(settings, max_bytes_per_pass=8 * 1024 * 1024)
    ports = fake_ports()
    image_id = staged_image(ports, settings, data)
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    messages = []
    while not (job.store.progress and job.store.progress.done):
        job = steps.import_to_store(ImportJob.model_validate(json.loads(json.dumps(job.to_state()))), settings, ports)
        messages.append(ports.tasks.get(job.task_id).message)
        assert ports.images.get(image_id).checksum is None or job.store.progress.done  # recorded by the last pass only
    assert messages == ["Copied 8 MiB", "Copied 16 MiB", "Copied 20 MiB"]
    assert job.store.progress.passes == 3
    image = ports.images.get(image_id)
    assert image.checksum == hashlib.md5(data).hexdigest() and image.size == len(data)
    assert ports.store.objects[f"images/{image_id}"] == data

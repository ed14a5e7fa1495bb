"""The sweeper repairs what a crash leaves behind, and leaves everything live alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from image_import.models import Image, Task
from image_import.workflow.start import execution_name, start_import
from image_import.workflow.sweeper import sweep
from tests.support.fakes import fake_ports
from tests.support.imports import GLANCE_DIRECT, MEMBER, staged_image

LATER = datetime.now(UTC) + timedelta(hours=1)  # past the sweeper's grace period for everything made now
MUCH_LATER = datetime.now(UTC) + timedelta(days=2)


def at(moment):
    return lambda: moment


def importing(ports, settings, data=b"abc"):
    """Given an image whose import was accepted (lock taken, task recorded, execution started)."""
    image_id = staged_image(ports, settings, data)
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)
    return image_id, task.id


def test_an_import_whose_execution_failed_without_reverting_is_reverted(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    ports.workflow.statuses[execution_name(image_id, task_id)] = "FAILED"
    report = sweep(ports, settings, clock=at(LATER))
    image = ports.images.get(image_id)
    assert image.status == "uploading" and image.import_lock is None
    assert f"staging/{image_id}" in ports.staging.objects  # staged data kept for a retry
    assert report.imports_reverted == 1


def test_the_reverted_task_fails_with_a_message_naming_the_cause(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    ports.workflow.statuses[execution_name(image_id, task_id)] = "TIMED_OUT"
    sweep(ports, settings, clock=at(LATER))
    task = ports.tasks.get(task_id)
    assert task.status == "failure"
    assert "execution ended (TIMED_OUT)" in task.message and "staged data kept" in task.message


def test_a_partial_store_object_of_a_dead_import_is_removed(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    ports.store.put(f"images/{image_id}", b"ab")
    ports.workflow.statuses[execution_name(image_id, task_id)] = "ABORTED"
    sweep(ports, settings, clock=at(LATER))
    assert ports.store.objects == {}


def test_an_import_whose_execution_never_started_is_reverted_after_the_grace_period(settings):
    ports = fake_ports()
    image_id, _ = importing(ports, settings)
    ports.workflow.started.clear()  # the API crashed between taking the lock and starting the execution
    sweep(ports, settings, clock=at(LATER))
    assert ports.images.get(image_id).status == "uploading"


def test_an_import_that_just_took_its_lock_is_left_alone(settings):
    ports = fake_ports()
    image_id, _ = importing(ports, settings)
    ports.workflow.started.clear()  # not started *yet*: the API may be about to start it
    report = sweep(ports, settings)
    assert ports.images.get(image_id).status == "importing"
    assert report.imports_reverted == 0


def test_a_running_import_is_left_alone(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    report = sweep(ports, settings, clock=at(MUCH_LATER))
    assert ports.images.get(image_id).import_lock.task_id == task_id
    assert ports.tasks.get(task_id).status == "pending"
    assert report.as_dict() == dict.fromkeys(report.as_dict(), 0)


def test_a_dead_import_without_staged_data_goes_back_to_queued(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    ports.staging.objects.clear()
    ports.workflow.statuses[execution_name(image_id, task_id)] = "FAILED"
    sweep(ports, settings, clock=at(LATER))
    image = ports.images.get(image_id)
    assert image.status == "queued" and image.size is None


def test_a_processing_task_whose_execution_ended_is_failed(settings):
    ports = fake_ports()
    now = "2026-01-01T00:00:00Z"
    ports.tasks.create(Task(id="t1", image_id="gone", status="processing", created_at=now, updated_at=now))
    ports.workflow.statuses[execution_name("gone", "t1")] = "FAILED"
    report = sweep(ports, settings, clock=at(LATER))
    task = ports.tasks.get("t1")
    assert task.status == "failure" and "execution ended (FAILED)" in task.message
    assert report.tasks_failed == 1


def test_a_finished_task_is_never_changed(settings):
    ports = fake_ports()
    now = "2026-01-01T00:00:00Z"
    ports.tasks.create(Task(id="t1", image_id="i", status="success", created_at=now, updated_at=now))
    sweep(ports, settings, clock=at(LATER))
    assert ports.tasks.get("t1").status == "success"


def test_staged_data_of_a_deleted_image_is_removed(settings):
    ports = fake_ports()
    ports.staging.put("staging/0a3c5f0e-0000-4000-8000-000000000000", b"abc")
    report = sweep(ports, settings, clock=at(LATER))
    assert ports.staging.objects == {} and report.staged_objects_deleted == 1


def test_conversion_residue_of_a_deleted_image_is_removed_too(settings):
    ports = fake_ports()
    ports.staging.put("staging/0a3c5f0e-0000-4000-8000-000000000000.qcow2", b"abc")
    sweep(ports, settings, clock=at(LATER))
    assert ports.staging.objects == {}


def test_staged_data_of_an_uploading_image_is_kept(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    sweep(ports, settings, clock=at(LATER))
    assert list(ports.staging.objects) == [f"staging/{image_id}"]


def test_staged_data_a_queued_image_does_not_reference_is_removed(settings):
    ports = fake_ports()
    ports.images.create(Image(id="q", status="queued"))
    ports.staging.put("staging/q", b"abc")  # a stage that crashed before recording it
    sweep(ports, settings, clock=at(LATER))
    assert ports.staging.objects == {}


def test_a_fresh_staged_object_is_left_alone(settings):
    # a stage in progress writes the object first and records the image's status right after
    ports = fake_ports()
    ports.staging.put("staging/new", b"abc")
    sweep(ports, settings)
    assert list(ports.staging.objects) == ["staging/new"]


def test_stored_data_of_a_deleted_image_is_removed_and_an_active_images_is_kept(settings):
    ports = fake_ports()
    ports.images.create(Image(id="live", status="active"))
    ports.store.put("images/live", b"abc")
    ports.store.put("images/dead", b"abc")
    report = sweep(ports, settings, clock=at(LATER))
    assert list(ports.store.objects) == ["images/live"] and report.stored_objects_deleted == 1


def test_a_multipart_upload_older_than_the_threshold_is_aborted(settings):
    ports = fake_ports()
    ports.store.multipart["u1"] = ("images/x", datetime.now(UTC))
    report = sweep(ports, settings, clock=at(MUCH_LATER))
    assert ports.store.multipart == {} and report.uploads_aborted == 1


def test_a_recent_multipart_upload_is_left_to_finish(settings):
    ports = fake_ports()
    ports.staging.multipart["u1"] = ("staging/x", datetime.now(UTC))
    sweep(ports, settings, clock=at(LATER))
    assert list(ports.staging.multipart) == ["u1"]


def test_the_limits_come_from_the_functions_environment():
    from image_import.workflow.sweeper import SweepLimits

    limits = SweepLimits.from_environment({"SWEEPER_GRACE_MINUTES": "5", "SWEEPER_UPLOAD_AGE_HOURS": "2"})
    assert limits == SweepLimits(grace=timedelta(minutes=5), upload_age=timedelta(hours=2))
    assert SweepLimits.from_environment({}) == SweepLimits()


def test_directly_uploaded_data_of_an_uploading_image_is_kept(settings):
    ports = fake_ports()
    image_id = staged_image(ports, settings)
    ports.staging.put(f"uploads/{image_id}", b"abc")  # a direct upload the user will import later
    sweep(ports, settings, clock=at(LATER))
    assert f"uploads/{image_id}" in ports.staging.objects


def test_a_direct_upload_of_a_deleted_image_is_removed(settings):
    ports = fake_ports()
    ports.staging.put("uploads/0a3c5f0e-0000-4000-8000-000000000000", b"abc")
    sweep(ports, settings, clock=at(LATER))
    assert ports.staging.objects == {}


def test_the_old_upload_of_an_import_still_in_passes_is_kept(settings):
    ports = fake_ports()
    image_id, _ = importing(ports, settings)
    ports.store.multipart["u1"] = (f"images/{image_id}", datetime.now(UTC))  # its copy, pass after pass
    ports.store.multipart["u2"] = ("images/gone", datetime.now(UTC))
    ports.workflow.statuses = {name: "RUNNING" for name in ports.workflow.statuses}
    report = sweep(ports, settings, clock=at(MUCH_LATER))
    assert list(ports.store.multipart) == ["u1"] and report.uploads_aborted == 1


# ---------------------------------------------------------------- what the sweeper reads: candidates only

OLD = "2026-01-01T00:00:00Z"


def test_a_copy_whose_execution_died_releases_the_active_images_lock(settings):
    # a copy-image locks an active image: no status singles it out, its unfinished task leads to it
    from image_import.models.image import ImportLock

    ports = fake_ports()
    lock = ImportLock(task_id="copy-task", taken_at=OLD)
    ports.images.create(Image(id="img", status="active", stores=["fast"], import_lock=lock, updated_at=OLD))
    copy = {"import_req": {"method": {"name": "copy-image"}}}
    ports.tasks.create(
        Task(id="copy-task", image_id="img", status="processing", input=copy, created_at=OLD, updated_at=OLD)
    )
    ports.workflow.statuses[execution_name("img", "copy-task")] = "TIMED_OUT"
    report = sweep(ports, settings, clock=at(LATER))
    image = ports.images.get("img")
    assert (image.status, image.import_lock) == ("active", None)
    assert ports.tasks.get("copy-task").status == "failure" and report.imports_reverted == 1


def test_a_processing_task_whose_execution_timed_out_is_failed(settings):
    # the state machine's TimeoutSeconds ends an execution without its Catch: only the sweeper notices
    ports = fake_ports()
    ports.tasks.create(Task(id="t1", image_id="gone", status="processing", created_at=OLD, updated_at=OLD))
    ports.workflow.statuses[execution_name("gone", "t1")] = "TIMED_OUT"
    report = sweep(ports, settings, clock=at(LATER))
    assert "execution ended (TIMED_OUT)" in ports.tasks.get("t1").message and report.tasks_failed == 1


def test_a_dead_import_changed_within_the_grace_period_waits_for_the_next_pass(settings):
    ports = fake_ports()
    image_id, task_id = importing(ports, settings)
    ports.workflow.statuses[execution_name(image_id, task_id)] = "FAILED"
    assert sweep(ports, settings).imports_reverted == 0  # just ended: not yet a candidate
    assert ports.images.get(image_id).status == "importing"
    assert sweep(ports, settings, clock=at(LATER)).imports_reverted == 1


def test_the_objects_images_are_looked_up_by_id_a_hundred_at_a_time(settings, monkeypatch):
    ports = fake_ports()
    ports.images.create(Image(id="kept", status="uploading"))
    ports.staging.put("staging/kept", b"abc")
    for n in range(250):
        ports.staging.put(f"staging/gone-{n:03}", b"abc")
    looked_up: list[int] = []
    by_ids = ports.image_index.by_ids
    monkeypatch.setattr(ports.image_index, "by_ids", lambda ids: looked_up.append(len(ids)) or by_ids(ids))
    report = sweep(ports, settings, clock=at(LATER))
    assert list(ports.staging.objects) == ["staging/kept"] and report.staged_objects_deleted == 250
    assert looked_up == [100, 100, 51]

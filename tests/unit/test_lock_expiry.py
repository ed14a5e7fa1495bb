"""Lock expiry: an import whose task shows no progress for an hour no longer blocks the image."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from image_import.errors import Conflict
from image_import.models.image import ImportLock
from image_import.workflow.start import start_import
from tests.support.fakes import fake_ports
from tests.support.imports import GLANCE_DIRECT, MEMBER
from tests.support.locks import T0, locked_image, stamp


def at(moment: datetime):
    return lambda: moment


def test_a_lock_whose_task_progressed_within_the_hour_still_blocks_a_new_import(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    with pytest.raises(Conflict):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(minutes=59)))
    assert ports.workflow.started == []


def test_a_processing_task_silent_for_sixty_minutes_is_preempted_by_a_new_import(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(minutes=60)))
    image = ports.images.get(image_id)
    assert image.import_lock.task_id == task.id and image.status == "importing"
    assert len(ports.workflow.started) == 1


def test_the_preempted_task_fails_with_glances_message(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))
    old = ports.tasks.get("old")
    assert old.status == "failure" and old.message == "Expired lock preempted"
    assert old.expires_at is not None


def test_a_pending_task_keeps_its_lock_for_two_hours(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings, task_status="pending")
    with pytest.raises(Conflict):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(minutes=119)))


def test_a_pending_task_silent_for_two_hours_is_preempted(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings, task_status="pending")
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(minutes=120)))
    assert ports.tasks.get("old").message == "Expired lock preempted"


def test_a_lock_whose_task_record_is_missing_is_stale_after_a_short_grace(settings):
    # younger than locks.TASKLESS_LOCK_GRACE it may be an import between its lock and its task write
    ports = fake_ports()
    image_id = locked_image(ports, settings, with_task=False)
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(minutes=5)))
    assert ports.images.get(image_id).import_lock.task_id == task.id


def test_a_terminal_old_task_keeps_its_own_outcome(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings, task_status="success")
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=1)))
    old = ports.tasks.get("old")
    assert old.status == "success" and old.message == ""


def test_the_heartbeat_keeps_a_long_import_alive(settings):
    # 'Copied N MiB' refreshed updated_at 10 minutes ago: the lock is not stale whatever its age
    ports = fake_ports()
    image_id = locked_image(ports, settings, updated=T0 + timedelta(hours=5))
    with pytest.raises(Conflict):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=5, minutes=10)))


def test_an_expired_import_without_staged_data_is_refused_as_not_staged(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    ports.staging.objects.clear()
    with pytest.raises(Conflict, match="needs to be staged"):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))


def test_losing_the_takeover_race_is_409_and_starts_nothing(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    original_save = ports.images.save

    def someone_else_first(image, **save):
        # another import took the expired lock between our read and our conditional write
        ports.images.save = original_save
        other = ports.images.get(image_id)
        other.import_lock = ImportLock(task_id="rival", taken_at=stamp(T0))
        original_save(other)
        original_save(image, **save)

    ports.images.save = someone_else_first
    with pytest.raises(Conflict, match="prior operation is still in progress"):
        start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))
    assert ports.images.get(image_id).import_lock.task_id == "rival"
    assert ports.workflow.started == []


def test_the_preempted_imports_late_revert_leaves_the_new_imports_store_data_alone(settings):
    from image_import.models import ImportJob, RequestContext
    from image_import.models.job import StepError
    from image_import.workflow import revert

    ports = fake_ports()
    image_id = locked_image(ports, settings)
    new_task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))
    ports.store.put(f"images/{image_id}", b"the new import's copy")
    old_job = ImportJob(
        image_id=image_id, task_id="old", context=RequestContext(), staging_key=f"staging/{image_id}",
        error=StepError(Error="TaskAborted"),
    )  # fmt: skip

    revert.revert(old_job, settings, ports)

    assert ports.store.objects == {f"images/{image_id}": b"the new import's copy"}
    assert ports.images.get(image_id).import_lock.task_id == new_task.id


def test_taking_over_a_stale_lock_puts_back_what_its_data_plugin_changed(settings):
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    image = ports.images.get(image_id)
    declared = (image.size, image.disk_format, image.container_format)
    # the dead import's conversion had relabelled the image before it died
    image.import_lock.restore = {"size": image.size, "disk_format": image.disk_format}
    image.size, image.disk_format = 16 * 1024 * 1024, "qcow2" if image.disk_format == "raw" else "raw"
    ports.images.save(image)
    task = start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))
    image = ports.images.get(image_id)
    assert image.import_lock.task_id == task.id and image.import_lock.restore is None
    assert (image.size, image.disk_format, image.container_format) == declared


def test_taking_over_a_stale_lock_forgets_the_bytes_the_dead_import_was_writing(settings):
    """Its ``arriving`` bytes counted as staging: the new import starts from none (quotas/growth.py)."""
    ports = fake_ports()
    image_id = locked_image(ports, settings)
    image = ports.images.get(image_id)
    image.arriving = 5 * 1024 * 1024  # a replacement half-written when the import died
    ports.images.save(image)
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports, clock=at(T0 + timedelta(hours=2)))
    assert ports.images.get(image_id).arriving == 0

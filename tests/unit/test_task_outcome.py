"""How a task ends, in one place: Task.fail/succeed (one expiry rule) written by images/task_outcome.py
(one retry policy, one notification rule), whichever part of the import ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_import.errors import TaskAborted
from image_import.images import task_outcome
from image_import.models import Task
from image_import.models.time import TASK_TIME_TO_LIVE, utc_stamp
from tests.support.fakes import fake_ports

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
IMAGE = "00000000-0000-0000-0000-000000000001"
TASK = "00000000-0000-0000-0000-0000000000aa"


def a_task(status: str = "processing") -> Task:
    return Task(id=TASK, image_id=IMAGE, status=status, created_at=utc_stamp(NOW), updated_at=utc_stamp(NOW))


def test_a_failed_task_expires_its_time_to_live_after_it_ended():
    task = a_task()
    later = NOW + timedelta(minutes=7)

    assert task.fail("Import failed: boom", later)

    assert (task.status, task.message) == ("failure", "Import failed: boom")
    assert task.updated_at == utc_stamp(later)
    assert task.expires_at == utc_stamp(later + TASK_TIME_TO_LIVE)


def test_a_succeeded_task_keeps_its_result_and_expires_by_the_same_rule():
    task = a_task()

    assert task.succeed({"image_id": IMAGE}, NOW)

    assert (task.status, task.result) == ("success", {"image_id": IMAGE})
    assert task.expires_at == utc_stamp(NOW + TASK_TIME_TO_LIVE)


@pytest.mark.parametrize("status", ["success", "failure"])
def test_an_ended_task_keeps_its_first_ending(status):
    task = a_task(status)
    before = task.model_copy()

    assert not task.fail("late", NOW)
    assert not task.succeed({"image_id": IMAGE}, NOW)
    assert task == before


def racing_ports(losses: int):
    """The tasks repository loses its conditional write ``losses`` times (a heartbeat wrote in between)."""
    ports = fake_ports()
    ports.tasks.create(a_task())
    save, lost = ports.tasks.save, [0]

    def save_after_a_rival(record, claims=()):
        if lost[0] < losses:
            lost[0] += 1
            rival = ports.tasks.get(record.id)
            rival.message = "Copied 1 MiB"
            save(rival)  # the rival's write moves the version on: ours is now stale
        return save(record, claims)

    ports.tasks.save = save_after_a_rival
    return ports


def test_a_failure_written_during_a_heartbeat_is_retried_on_a_fresh_read():
    ports = racing_ports(losses=3)

    failed = task_outcome.fail(ports, TASK, "Import failed: boom", NOW)

    assert failed is not None and ports.tasks.get(TASK).status == "failure"
    assert ports.tasks.get(TASK).expires_at == utc_stamp(NOW + TASK_TIME_TO_LIVE)


def test_a_task_that_keeps_changing_aborts_after_the_one_retry_policy():
    ports = racing_ports(losses=task_outcome.ATTEMPTS)

    with pytest.raises(TaskAborted, match="kept changing"):
        task_outcome.fail(ports, TASK, "Import failed: boom", NOW)
    assert ports.tasks.get(TASK).status == "processing"


def test_a_gone_or_ended_task_is_left_alone():
    ports = fake_ports()
    ports.tasks.create(a_task("success"))

    assert task_outcome.fail(ports, TASK, "late", NOW) is None
    assert task_outcome.fail(ports, "00000000-0000-0000-0000-0000000000bb", "late", NOW) is None
    assert ports.tasks.get(TASK).status == "success"


def test_a_preempted_tasks_late_revert_keeps_the_preemption_as_its_message(settings):
    from image_import.models import ImportJob, RequestContext
    from image_import.models.job import StepError
    from image_import.workflow.locks import PREEMPTED_MESSAGE
    from image_import.workflow.revert import revert

    ports = fake_ports()
    ports.tasks.create(a_task())
    task_outcome.fail(ports, TASK, PREEMPTED_MESSAGE, NOW)  # the new import took the stale lock over
    job = ImportJob(
        image_id=IMAGE, task_id=TASK, context=RequestContext(), staging_key=f"staging/{IMAGE}",
        error=StepError(Error="TaskAborted"),
    )  # fmt: skip

    revert(job, settings, ports)  # the old execution's revert, late

    assert ports.tasks.get(TASK).message == PREEMPTED_MESSAGE

"""Lock expiry through the API in the moto stack: a dead import's lock no longer blocks the image."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from image_import.adapters.records import ImageRepository, TaskRepository
from image_import.models import Task
from image_import.models.image import ImportLock
from tests.support.consistency import assert_consistent
from tests.support.stack_state import wait_for_executions


def dead_import(stack, member, silent_for: timedelta) -> str:
    """Given a staged image locked by an import whose task last progressed ``silent_for`` ago."""
    image = member.create()
    member.stage(image["id"], b"staged bytes")
    then = (datetime.now(UTC) - silent_for).strftime("%Y-%m-%dT%H:%M:%SZ")
    task = Task(
        id="dead-task", image_id=image["id"], owner="demo", status="processing", created_at=then, updated_at=then
    )
    TaskRepository(stack.physical_name("TasksTable")).create(task)
    images = ImageRepository(stack.physical_name("ImagesTable"))
    record = images.get(image["id"])
    record.status, record.import_lock = "importing", ImportLock(task_id=task.id, taken_at=then)
    images.save(record)
    return image["id"]


def test_an_import_silent_for_an_hour_is_preempted_and_the_new_one_ends_active(stack, member):
    image_id = dead_import(stack, member, timedelta(minutes=61))
    assert member.import_(image_id).status == 202
    wait_for_executions(stack)
    assert member.show(image_id)["status"] == "active"
    assert_consistent(stack)


def test_the_preempted_task_reads_expired_lock_preempted(stack, member):
    image_id = dead_import(stack, member, timedelta(minutes=61))
    member.import_(image_id)
    wait_for_executions(stack)
    old = TaskRepository(stack.physical_name("TasksTable")).get("dead-task")
    assert old.status == "failure" and old.message == "Expired lock preempted"


def test_an_import_that_progressed_recently_still_blocks_with_409(stack, member):
    image_id = dead_import(stack, member, timedelta(minutes=5))
    reply = member.import_(image_id)
    assert reply.status == 409
    assert member.show(image_id)["os_glance_import_task"] == "dead-task"

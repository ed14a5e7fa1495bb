"""The sweeper Lambda in the moto stack: broken states written straight into DynamoDB/S3, then swept."""

from __future__ import annotations

import json

import boto3
import pytest
import requests

from image_import.adapters.records import ImageIndexes, ImageRepository, TaskRepository, UsageRepository
from image_import.models import Task
from image_import.models.image import ImportLock, utcnow
from tests.support.consistency import assert_consistent, keys, uploads_in_progress

DELETED_IMAGE = "6f1e0c7a-1111-4222-8333-444455556666"


@pytest.fixture
def sweep(stack, monkeypatch):
    # everything these tests make is seconds old: no grace period, no minimum upload age
    monkeypatch.setenv("SWEEPER_GRACE_MINUTES", "0")
    monkeypatch.setenv("SWEEPER_UPLOAD_AGE_HOURS", "0")

    def run() -> dict:
        # it reads indexes and ids, never a whole table: no repository has a scan (tests/unit/test_no_scans.py)
        reply = boto3.client("lambda").invoke(FunctionName=stack.physical_name("SweeperFunction"), Payload=b"{}")
        assert "FunctionError" not in reply, reply["Payload"].read()
        return json.loads(reply["Payload"].read())

    return run


def crashed_import(stack, member, staged_through: str = "stage") -> tuple[str, str]:
    """Given an image whose import took the lock and recorded its task, then died before its execution started.

    ``staged_through``: ``stage`` (PUT /stage, data at staging/<id>) or ``direct`` (a presigned direct
    upload, data at uploads/<id>).
    """
    image = member.create()
    if staged_through == "stage":
        member.stage(image["id"], b"staged bytes")
    else:
        url = member.call("POST", f"/v2/images/{image['id']}/upload-urls", {"size": 12}).json["url"]
        assert requests.put(url, data=b"staged bytes", timeout=30).status_code == 200
        stack.settle()
        assert member.show(image["id"])["status"] == "uploading"
    images = ImageRepository(stack.physical_name("ImagesTable"))
    now = utcnow()
    task = Task(
        id="crashed-task", image_id=image["id"], owner="demo", status="processing", created_at=now, updated_at=now
    )
    TaskRepository(stack.physical_name("TasksTable")).create(task)
    record = images.get(image["id"])
    record.status, record.import_lock = "importing", ImportLock(task_id=task.id, taken_at=now)
    images.save(record)
    s3 = boto3.client("s3")
    store = stack.physical_name("StoreBucket")
    s3.put_object(Bucket=store, Key=f"images/{image['id']}", Body=b"half")  # a partial copy
    s3.create_multipart_upload(Bucket=store, Key=f"images/{image['id']}")  # and the upload it abandoned
    return image["id"], task.id


def test_a_crashed_import_is_reverted_to_uploading_with_its_data_kept(stack, member, sweep):
    image_id, _ = crashed_import(stack, member)
    report = sweep()
    image = member.show(image_id)
    assert image["status"] == "uploading" and "os_glance_import_task" not in image
    assert keys(stack, "StagingBucket") == {f"staging/{image_id}"}
    assert report["imports_reverted"] == 1


def test_a_crashed_import_of_a_direct_upload_is_reverted_to_uploading_with_its_uploaded_data_kept(stack, member, sweep):
    # regression: the sweeper rebuilt the job with staging/<id>, found no staged data there, dropped the
    # image to 'queued' and the same sweep deleted uploads/<id> as unreferenced
    image_id, _ = crashed_import(stack, member, staged_through="direct")
    report = sweep()
    image = member.show(image_id)
    assert (image["status"], image["size"]) == ("uploading", 12)
    [kept] = keys(stack, "StagingBucket")  # the upload, as its event staged it (copied out of uploads/)
    assert kept.startswith(f"staging/{image_id}.upload.")
    assert report["imports_reverted"] == 1 and report["staged_objects_deleted"] == 0
    assert member.import_(image_id).status == 202  # and it imports from the kept upload
    from tests.support.stack_state import wait_for_executions

    wait_for_executions(stack)
    assert member.show(image_id)["status"] == "active"


def test_the_crashed_imports_task_fails_saying_its_execution_never_started(stack, member, sweep):
    image_id, _ = crashed_import(stack, member)
    sweep()
    [task] = member.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
    assert task["status"] == "failure" and "never started" in task["message"]


def test_after_a_sweep_the_stack_is_consistent(stack, member, sweep):
    crashed_import(stack, member)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.physical_name("StagingBucket"), Key=f"staging/{DELETED_IMAGE}", Body=b"x")
    s3.put_object(Bucket=stack.physical_name("StoreBucket"), Key=f"images/{DELETED_IMAGE}", Body=b"x")
    report = sweep()
    assert_consistent(stack)
    assert report == {
        "imports_reverted": 1,
        "tasks_failed": 0,  # the reverted import's task was failed by the revert itself
        "staged_objects_deleted": 1,
        "stored_objects_deleted": 1,  # the deleted image's (the crashed import's went with its revert)
        "uploads_aborted": 0,  # the crashed import's open store upload went with its revert (abort_uploads)
        "counters_drifted": 0,  # every write counted itself: nothing for the repair
        "counters_repaired": 0,
    }
    assert uploads_in_progress(stack, "StoreBucket") == []


def test_the_reverted_image_can_be_imported_to_active(stack, member, sweep):
    image_id, _ = crashed_import(stack, member)
    sweep()
    assert member.import_(image_id).status == 202
    from tests.support.stack_state import wait_for_executions

    wait_for_executions(stack)
    assert member.show(image_id)["status"] == "active"
    assert_consistent(stack)


def test_a_sweep_leaves_a_finished_import_untouched(stack, member, sweep):
    from tests.support.workflow import import_and_wait

    image = import_and_wait(member, stack, b"abc")
    report = sweep()
    assert member.show(image["id"])["status"] == "active"
    assert keys(stack, "StoreBucket") == {f"images/{image['id']}"}
    assert set(report.values()) == {0}
    assert uploads_in_progress(stack, "StoreBucket") == []


def test_a_reverted_lost_import_counts_as_a_failure_of_a_lost_execution(stack, member, sweep, capsys, monkeypatch):
    from tests.support.metrics_capture import emitted_metrics

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    crashed_import(stack, member)
    capsys.readouterr()
    sweep()
    found = emitted_metrics(capsys.readouterr().out)
    assert ("ImportsFailed", 1.0, {"ImportMethod": "glance-direct"}) in found
    assert ("ImportStepFailures", 1.0, {"Step": "LostExecution"}) in found


# ---------------------------------------------------------------- what it reads: the status indexes, ids in batches
BEFORE, CUTOFF, AFTER = "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z"


def test_the_status_index_answers_the_images_in_a_status_changed_before_a_time(stack):
    from image_import.models import Image

    images = ImageRepository(stack.physical_name("ImagesTable"))
    images.create(Image(id="old-importing", status="importing", updated_at=BEFORE))
    images.create(Image(id="at-the-cutoff", status="importing", updated_at=CUTOFF))
    images.create(Image(id="new-importing", status="importing", updated_at=AFTER))
    images.create(Image(id="old-active", status="active", updated_at=BEFORE))
    images.create(Image(id="deleted", status="importing", updated_at=BEFORE))
    images.delete("deleted")  # its tombstone has no status: never a candidate
    assert sorted(i.id for i in ImageIndexes(images.table).in_status("importing", CUTOFF)) == [
        "at-the-cutoff",
        "old-importing",
    ]


def test_images_are_looked_up_by_id_in_batches_and_a_deleted_ones_tombstone_is_none(stack):
    from image_import.models import Image

    images = ImageRepository(stack.physical_name("ImagesTable"))
    for n in range(130):  # more than one BatchGetItem takes
        images.create(Image(id=f"img-{n:03}", status="active"))
    images.delete("img-007")
    found = ImageIndexes(images.table).by_ids(
        [f"img-{n:03}" for n in range(130)] + ["never-existed", "img-001", "", "x" * 3000]
    )
    assert len(found) == 129 and "img-007" not in found and found["img-001"].status == "active"


def test_the_tasks_status_index_answers_unfinished_tasks_changed_before_a_time(stack):
    tasks = TaskRepository(stack.physical_name("TasksTable"))
    for task_id, status, stamp in [("a", "processing", BEFORE), ("b", "processing", AFTER), ("c", "success", BEFORE)]:
        tasks.create(Task(id=task_id, image_id="i", status=status, created_at=stamp, updated_at=stamp))
    assert [t.id for t in tasks.in_status("processing", CUTOFF)] == ["a"]


def test_quota_counters_changed_outside_the_service_are_repaired_and_reported(stack, member, sweep):
    image = member.create()
    table = stack.physical_name("ImagesTable")
    boto3.client("dynamodb").update_item(  # e.g. a table restored from an older backup than the images
        TableName=table,
        Key={"id": {"S": "usage/demo"}},
        UpdateExpression="SET image_count_total = :n",
        ExpressionAttributeValues={":n": {"N": "7"}},
    )
    report = sweep()
    assert report["counters_drifted"] == 1 and report["counters_repaired"] == 1
    counters = UsageRepository(table).usage("demo")
    assert counters["image_count_total"] == 1  # the one image there is
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204
    assert UsageRepository(table).usage("demo")["image_count_total"] == 0
    assert sweep()["counters_drifted"] == 0

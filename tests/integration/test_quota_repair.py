"""The counters' repair (quotas/repair.py) against DynamoDB: drift found and put right, a project written
to within the settle time left alone, a repair that loses to a write not applied."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3

from image_import.adapters.records import ImageIndexes, ImageRepository, UsageRepository
from image_import.models import Image
from image_import.quotas.repair import repair_counters

LATER = datetime.now(UTC) + timedelta(hours=1)
SETTLE = timedelta(minutes=15)


def images_of(stack) -> ImageRepository:
    return ImageRepository(stack.physical_name("ImagesTable"))


def usage_of(stack) -> UsageRepository:
    return UsageRepository(stack.physical_name("ImagesTable"))


def repair(stack, now: datetime):
    table = stack.physical_name("ImagesTable")
    return repair_counters(UsageRepository(table), ImageIndexes(table), now, SETTLE)


def tamper(stack, project: str, **counters: int) -> None:
    """A change made outside the service (a restore, a hand edit): counters that no longer add up."""
    values = {f":{k}": {"N": str(v)} for k, v in counters.items()}
    boto3.client("dynamodb").update_item(
        TableName=stack.physical_name("ImagesTable"),
        Key={"id": {"S": f"usage/{project}"}},
        UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in counters),
        ExpressionAttributeValues=values,
    )


def test_drift_is_reported_and_repaired_and_counters_that_add_up_are_left_alone(stack):
    images = images_of(stack)
    images.create(Image(id=str(uuid.uuid4()), owner="p", status="active", size=7))
    images.create(Image(id=str(uuid.uuid4()), owner="q"))
    assert usage_of(stack).usage("p") == {"image_count_total": 1, "image_size_total": 7}
    tamper(stack, "p", image_count_total=5, image_count_uploading=2)
    [drift] = repair(stack, LATER)
    assert drift.project == "p" and drift.repaired
    assert drift.counted["image_count_total"] == 5 and drift.actual["image_count_total"] == 1
    assert usage_of(stack).usage("p") == {
        "image_count_total": 1, "image_size_total": 7, "image_stage_total": 0, "image_count_uploading": 0
    }  # fmt: skip
    assert repair(stack, LATER) == []  # nothing left to repair


def test_a_project_written_to_within_the_settle_time_waits_for_the_next_sweep(stack):
    images = images_of(stack)
    images.create(Image(id=str(uuid.uuid4()), owner="p"))
    tamper(stack, "p", image_count_total=9)
    assert repair(stack, datetime.now(UTC)) == []  # the create just now: an index may lag
    assert usage_of(stack).usage("p")["image_count_total"] == 9


def test_a_repair_that_loses_to_a_write_is_not_applied(stack):
    images = images_of(stack)
    images.create(Image(id=str(uuid.uuid4()), owner="p"))
    _, _, writes = usage_of(stack).usage_row("p")
    images.create(Image(id=str(uuid.uuid4()), owner="p"))  # a counted write after the repair read (same second)
    assert usage_of(stack).set_usage("p", writes, {"image_count_total": 1}) is False
    assert usage_of(stack).usage("p")["image_count_total"] == 2

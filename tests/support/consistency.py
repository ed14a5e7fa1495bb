"""What 'consistent' means after any import, failed or not: checked against the raw AWS resources."""

from __future__ import annotations

import boto3

from image_import.adapters.records import UsageRepository
from tests.support.records import stored_images, stored_tasks

IMAGE_HOLDS_STAGED_DATA = ("uploading", "importing")
IMAGE_HOLDS_STORED_DATA = ("active",)


def uploads_in_progress(stack, logical_id: str) -> list[dict]:
    name = stack.physical_name(logical_id)
    return boto3.client("s3").list_multipart_uploads(Bucket=name).get("Uploads", [])


def keys(stack, logical_id: str) -> set[str]:
    name = stack.physical_name(logical_id)
    return {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=name).get("Contents", [])}


def assert_consistent(stack) -> None:
    """Every record whole and settled, every object owned by an image that needs it, no upload left open."""
    images = {i.id: i for i in stored_images(stack.physical_name("ImagesTable"))}
    tasks = stored_tasks(stack.physical_name("TasksTable"))
    for image in images.values():
        assert image.status != "importing" and image.import_lock is None, f"{image.id} left {image.status}"
        if image.status != "active":
            assert image.checksum is None and image.os_hash_value is None, f"{image.id} half-written"
    for task in tasks:
        assert task.status in ("success", "failure"), f"task {task.id} left {task.status}"
        if task.status == "failure":
            assert task.message, f"task {task.id} failed without saying why"
    expected_staged = {f"staging/{i.id}" for i in images.values() if i.status in IMAGE_HOLDS_STAGED_DATA}
    expected_stored = {f"images/{i.id}" for i in images.values() if i.status in IMAGE_HOLDS_STORED_DATA}
    # uploading images may have lost their staged data (then they went back to 'queued')
    assert keys(stack, "StagingBucket") == expected_staged
    assert keys(stack, "StoreBucket") == expected_stored
    for bucket in ("StagingBucket", "StoreBucket"):
        assert uploads_in_progress(stack, bucket) == [], f"multipart upload left open in {bucket}"
    assert_counted(stack)


def assert_counted(stack) -> None:
    """Every project's quota counters are what its images add up to: each write counted itself, failed
    and reverted ones included (models/quota.py)."""
    from image_import.models.quota import contribution

    repository = UsageRepository(stack.physical_name("ImagesTable"))
    actual: dict[str, dict[str, int]] = {}
    for image in stored_images(repository.table):
        for name, value in contribution(image).items():
            actual.setdefault(image.owner, {}).setdefault(name, 0)
            actual[image.owner][name] += value
    for project in set(repository.counted_projects()) | set(actual):
        counted = {n: v for n, v in repository.usage(project).items() if v}
        assert counted == actual.get(project, {}), (
            f"{project}'s counters {counted} != its images' {actual.get(project)}"
        )

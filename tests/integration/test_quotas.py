"""Quotas (Glance's unified limits, here from [image_limits] and image-limits.yaml): Glance's own functional
tests of them (glance/tests/functional/v2/test_images.py TestKeystoneQuotas), against the whole stack, and
what we do better: the counters change in the image's own transaction, so a limit admits exactly."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.config import set_option
from tests.support.stack_state import bucket_keys, wait_for_executions

MIB = 1024 * 1024
OCTETS = {"Content-Type": "application/octet-stream"}
LIMITS = {"image_size_total": 15, "image_stage_total": 15, "image_count_total": 10, "image_count_uploading": 10}


@pytest.fixture
def stack_large_requests() -> bool:
    """Quota arithmetic in whole MiB: bodies of 6 MiB, past what AWS takes through the API (the local stack
    refuses those as AWS does, unless told)."""
    return True


def limit(config_dir, **limits):
    for name, value in {**LIMITS, **limits}.items():
        set_option(config_dir, "glance-api.conf", "image_limits", name, str(value))


def upload(api: Api, image_id: str, size: int, declare: bool = False):
    headers = {**OCTETS, **({"x-openstack-image-size": str(size)} if declare else {})}
    return api.call("PUT", f"/v2/images/{image_id}/file", b"u" * size, headers)


def stage(api: Api, image_id: str, size: int, declare: bool = False):
    headers = {**OCTETS, **({"x-openstack-image-size": str(size)} if declare else {})}
    return api.call("PUT", f"/v2/images/{image_id}/stage", b"s" * size, headers)


def usage(api: Api) -> dict:
    reply = api.call("GET", "/v2/info/usage")
    assert reply.status == 200, reply.text
    return {name: (u["usage"], u["limit"]) for name, u in reply.json["usage"].items()}


def last_task(api: Api, image_id: str) -> dict:
    return api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"][-1]


def refused_before_written(api: Api, s3_writes: list, route: str, declared: str) -> None:
    """A 1 MiB body to a new image's ``route`` (stage, file) with the size header ``declared``: 400 in our
    words, nothing written to S3 (not even written and removed again), the image still queued."""
    image = api.create()
    s3_writes.clear()
    reply = api.call(
        "PUT", f"/v2/images/{image['id']}/{route}", b"d" * MIB, {**OCTETS, "x-openstack-image-size": declared}
    )
    assert reply.status == 400, reply.text
    assert s3_writes == []
    assert reply.json["message"] == f"x-openstack-image-size must be a non-negative integer, got {declared!r}"
    assert api.show(image["id"])["status"] == "queued"


def over(reply, text: str) -> None:
    assert reply.status == 413, reply.text
    assert text in reply.json["message"], reply.json["message"]
    assert "The request returned a 413 Request Entity Too Large" in reply.json["message"]


class TestCreate:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_count_total=2)
        return config_dir

    def test_the_third_image_is_refused_until_one_is_deleted(self, member):
        first = member.create()
        member.create()
        reply = member.call("POST", "/v2/images", {"name": "third"})
        over(reply, "Project demo is over a limit for [Resource image_count_total is over limit of 2 due to current "
                    "usage 2 and delta 1]")  # fmt: skip
        assert len(member.call("GET", "/v2/images").json["images"]) == 2  # nothing half-written
        assert member.call("DELETE", f"/v2/images/{first['id']}").status == 204
        member.create()
        assert usage(member)["image_count_total"] == (2, 2)


def test_a_write_is_refused_by_its_own_condition_when_another_got_in_first(stack):
    """Exact under concurrency: two requests both read usage 1 of limit 2 (each would pass Glance's
    check); the first write takes the last place, the second write itself is refused."""
    import uuid

    from image_import.adapters.records import ImageIndexes, ImageRepository, UsageRepository
    from image_import.models import Image
    from image_import.models.quota import Claim, OverLimit

    images = ImageRepository(stack.physical_name("ImagesTable"))
    usage = UsageRepository(images.table)
    images.create(Image(id=str(uuid.uuid4()), owner="p"))
    claims = [Claim("image_count_total", limit=2, delta=1)]
    first, second = Image(id=str(uuid.uuid4()), owner="p"), Image(id=str(uuid.uuid4()), owner="p")
    assert all(c.allows(usage.usage("p")["image_count_total"], 0) for c in claims)  # both would pass a read
    images.create(first, claims)
    with pytest.raises(OverLimit):
        images.create(second, claims)
    assert images.get(second.id) is None and usage.usage("p")["image_count_total"] == 2

    # a status change claims too: both images read queued, one upload at a time; the second write refused
    one_upload = [Claim("image_count_uploading", limit=1, after_write=True)]
    a, b = (images.get(i.id) for i in ImageIndexes(images.table).owned_by("p"))
    for image in (a, b):
        image.status = "uploading"
    images.save(a, one_upload)
    with pytest.raises(OverLimit):
        images.save(b, one_upload)
    assert images.get(b.id).status == "queued"
    assert usage.usage("p") == {"image_count_total": 2, "image_count_uploading": 1}


class TestUpload:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_size_total=5)
        return config_dir

    def test_an_upload_of_unknown_size_may_go_over_once_then_uploads_are_refused(self, member):
        first = member.create()
        assert upload(member, first["id"], 3 * MIB).status == 204
        # Glance: the size is unknown beforehand (delta 0), so this one passes and ends over the limit
        assert upload(member, member.create()["id"], 3 * MIB).status == 204
        third = member.create()
        over(upload(member, third["id"], MIB), "image_size_total is over limit of 5 due to current usage 6 and delta 0")
        assert member.show(third["id"])["status"] == "queued"  # refused before anything was written
        assert member.call("DELETE", f"/v2/images/{first['id']}").status == 204
        assert upload(member, third["id"], MIB).status == 204
        assert usage(member)["image_size_total"] == (4, 5)

    def test_a_declared_size_over_the_limit_is_refused_in_glances_words(self, member):
        assert upload(member, member.create()["id"], 3 * MIB, declare=True).status == 204
        reply = upload(member, member.create()["id"], 3 * MIB, declare=True)
        over(reply, "image_size_total is over limit of 5 due to current usage 3 and delta 3")

    @pytest.mark.parametrize("declared", ["-1", f"-{6 * MIB}", "1e3", "+1"])
    def test_a_negative_or_malformed_declared_size_is_400_before_anything_is_written(self, member, s3_writes, declared):
        """A negative size took that much off the precheck's usage: an over-quota project got past it,
        and its data was stored before the size mismatch was noticed."""
        assert upload(member, member.create()["id"], 6 * MIB).status == 204  # unknown size: may go over once
        refused_before_written(member, s3_writes, "file", declared)
        assert usage(member)["image_size_total"] == (6, 5)


class TestStage:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_stage_total=5)
        return config_dir

    def test_a_declared_staging_over_the_limit_is_refused(self, member):
        assert stage(member, member.create()["id"], 3 * MIB, declare=True).status == 204
        reply = stage(member, member.create()["id"], 3 * MIB, declare=True)
        over(reply, "image_stage_total is over limit of 5 due to current usage 3 and delta 3")

    @pytest.mark.parametrize("declared", ["-1", f"-{6 * MIB}", "1e3", "+1"])
    def test_a_negative_or_malformed_declared_size_is_400_before_anything_is_staged(
        self, member, stack, s3_writes, declared
    ):
        """A negative size took that much off the precheck's usage: an over-quota project got past it,
        and its data was staged before the size mismatch was noticed."""
        first = member.create()
        assert stage(member, first["id"], 6 * MIB).status == 204  # unknown size: may go over once
        refused_before_written(member, s3_writes, "stage", declared)
        assert bucket_keys(stack, "StagingBucket") == [f"staging/{first['id']}"]
        assert usage(member)["image_stage_total"] == (6, 5)

    def test_staging_over_the_limit_refuses_more_until_the_import_frees_it(self, member, stack):
        first = member.create()
        assert stage(member, first["id"], 6 * MIB).status == 204
        assert usage(member)["image_stage_total"] == (6, 5)
        over(stage(member, member.create()["id"], MIB), "image_stage_total is over limit of 5")
        assert member.import_(first["id"]).status == 202
        wait_for_executions(stack)
        assert member.show(first["id"])["status"] == "active"
        assert usage(member)["image_stage_total"] == (0, 5)
        assert stage(member, member.create()["id"], MIB).status == 204


class TestUploadingMethods:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_count_uploading=1)
        return config_dir

    def test_one_upload_at_a_time(self, member, stack):
        staged = member.create()
        assert stage(member, staged["id"], 1000).status == 204
        refused = member.create()
        over(stage(member, refused["id"], 1000), "image_count_uploading is over limit of 1 due to current usage 2")
        assert member.show(refused["id"])["status"] == "queued"  # the refused stage left nothing
        over(upload(member, refused["id"], 1000), "Resource image_count_uploading is over limit")
        assert member.import_(staged["id"]).status == 202
        wait_for_executions(stack)
        assert member.show(staged["id"])["status"] == "active"
        assert upload(member, refused["id"], 1000).status == 204


class TestImport:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_size_total=5)
        return config_dir

    def test_an_import_that_would_go_over_fails_its_task_and_keeps_the_staged_data(self, member, stack):
        first = member.create()
        assert upload(member, first["id"], 3 * MIB).status == 204
        staged = member.create()
        assert stage(member, staged["id"], 3 * MIB).status == 204
        assert member.import_(staged["id"]).status == 202  # Glance: accepted, then the task fails
        task = last_task(member, staged["id"])
        assert task["status"] == "failure"
        assert "image_size_total is over limit of 5 due to current usage 3 and delta 3" in task["message"]
        image = member.show(staged["id"])
        assert image["status"] == "uploading" and "os_glance_import_task" not in image  # lock clear, data kept
        assert member.call("DELETE", f"/v2/images/{first['id']}").status == 204
        assert member.import_(staged["id"]).status == 202
        wait_for_executions(stack)
        assert member.show(staged["id"])["status"] == "active"
        tasks = member.call("GET", f"/v2/images/{staged['id']}/tasks").json["tasks"]
        assert sorted(t["status"] for t in tasks) == ["failure", "success"]

    def test_an_import_when_over_already_is_413(self, member):
        assert upload(member, member.create()["id"], 6 * MIB).status == 204  # unknown size: may go over once
        staged = member.create()
        assert stage(member, staged["id"], 1000).status == 204
        over(member.import_(staged["id"]), "image_size_total is over limit of 5 due to current usage 6 and delta 0")
        assert member.call("GET", f"/v2/images/{staged['id']}/tasks").json["tasks"] == []


class TestPerProject:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_count_total=1)
        (config_dir / "image-limits.yaml").write_text("demo:\n  image_count_total: 3\n")
        return config_dir

    def test_a_project_override_wins_over_the_default(self, member, stack):
        for _ in range(3):
            member.create()
        over(member.call("POST", "/v2/images", {"name": "x"}), "over limit of 3")
        other = Api(stack, "other-token")
        other.create()
        over(other.call("POST", "/v2/images", {"name": "x"}), "Project alt is over a limit")
        assert usage(member) == {
            "image_size_total": (0, 15),
            "image_stage_total": (0, 15),
            "image_count_total": (3, 3),
            "image_count_uploading": (0, 10),
        }


def test_without_quotas_usage_is_empty_and_nothing_is_refused(member):
    for _ in range(3):
        member.create()
    assert member.call("GET", "/v2/info/usage").json == {"usage": {}}


# ---- copy-image (Glance's test_copy): store space counts once per store; a copy stages the image again
def copy(api: Api, image_id: str, store: str):
    return api.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": "copy-image"}, "stores": [store]})


def active_in_fast(api: Api, stack, size: int) -> str:
    image_id = api.create()["id"]
    assert stage(api, image_id, size).status == 204
    reply = api.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}, "stores": ["fast"]})
    assert reply.status == 202, reply.text
    wait_for_executions(stack)
    assert api.show(image_id)["status"] == "active"
    return image_id


class CopyStack:
    """Three stores (tests/support/multi_store.py); copy-image is an admin's (Glance's policy), on its own images."""

    @pytest.fixture
    def stores_stack(self, stack):
        from tests.support.multi_store import create_store_buckets

        create_store_buckets()
        return stack


def copy_config(config_dir, **limits):
    from tests.support.multi_store import configure_stores

    configure_stores(config_dir)
    limit(config_dir, **limits)
    return config_dir


class TestCopy(CopyStack):
    @pytest.fixture
    def stack_config(self, config_dir):
        return copy_config(config_dir, image_size_total=5)

    def test_a_copy_counts_the_data_once_more_per_store_then_imports_are_over(self, stores_stack, admin):
        image_id = active_in_fast(admin, stores_stack, 2 * MIB)
        for store, stored in (("cheap", 4), ("edge", 6)):  # a copy claims staging, not store space
            assert copy(admin, image_id, store).status == 202
            wait_for_executions(stores_stack)
            assert usage(admin)["image_size_total"] == (stored, 5)
            assert usage(admin)["image_stage_total"] == (0, 15)
        assert admin.show(image_id)["stores"] == "fast,cheap,edge"
        staged = admin.create()["id"]
        assert stage(admin, staged, 1000).status == 204
        over(admin.import_(staged), "image_size_total is over limit of 5 due to current usage 6 and delta 0")


class TestCopyOverStaging(CopyStack):
    @pytest.fixture
    def stack_config(self, config_dir):
        return copy_config(config_dir, image_stage_total=3)

    def test_a_copy_over_the_staging_limit_fails_its_task_and_leaves_the_image_as_it_was(self, stores_stack, admin):
        image_id = active_in_fast(admin, stores_stack, 2 * MIB)
        # Glance's arithmetic: the copy counts the image as staged (2) and claims its size again (2): 4 > 3
        assert copy(admin, image_id, "cheap").status == 202
        tasks = admin.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
        [task] = [t for t in tasks if t["input"]["import_req"]["method"]["name"] == "copy-image"]
        assert task["status"] == "failure"
        assert "image_stage_total is over limit of 3 due to current usage 2 and delta 2" in task["message"]
        image = admin.show(image_id)
        assert image["stores"] == "fast" and "os_glance_import_task" not in image
        assert image["os_glance_importing_to_stores"] == ""
        assert usage(admin)["image_stage_total"] == (0, 3) and usage(admin)["image_count_uploading"] == (0, 10)

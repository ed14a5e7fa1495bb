"""Quotas count every byte as it arrives (issue 21): downloads of unknown size, a plugin's replacement, the
copy into each store. An operation admitted under a limit may finish over it (Glance's rule), but only one
per project and limit at a time: the others fail their import with Glance's over-limit message.

Every import here is admitted first (all under the limits), and only then may any of them move a byte: the
function of the step that writes is held until the test has started them all, so the concurrency is forced.
"""

from __future__ import annotations

import gzip
import shutil
import threading

import pytest
from image_import_dev.render import plugin_function_id

from tests.support.api import Api
from tests.support.config import set_option
from tests.support.consistency import assert_consistent, assert_counted
from tests.support.paths import ROOT
from tests.support.stack_state import bucket_keys, wait_for_executions
from tests.support.web import QuietHandler

MIB = 1024 * 1024
OVER = "The request returned a 413 Request Entity Too Large"


def limit(config_dir, **limits):
    base = {"image_size_total": 100, "image_stage_total": 100, "image_count_total": 100, "image_count_uploading": 10}
    for name, value in {**base, **limits}.items():
        set_option(config_dir, "glance-api.conf", "image_limits", name, str(value))


def held_until(stack, function_id: str) -> threading.Event:
    """The function behind ``function_id`` waits, every call, until the returned event is set."""
    runtime = stack.runtime
    name = stack.physical_name(function_id)
    original = runtime._handler(runtime.functions[name])
    admitted = threading.Event()

    def held(event, context):
        assert admitted.wait(60), "the test never released the held function"
        return original(event, context)

    runtime._handlers[name] = held
    return admitted


def counters(project: str = "demo") -> dict[str, int]:
    from image_import.adapters.ports import default_ports

    return default_ports().usage.usage(project)


def overruns(project: str = "demo") -> dict[str, str]:
    from image_import.adapters.ports import default_ports

    return default_ports().usage.overrun_holders(project)


def outcomes(api: Api, image_ids: list[str]) -> tuple[list[str], list[str]]:
    """The images that became active, and the failure messages of the others."""
    active, failures = [], []
    for image_id in image_ids:
        [task] = api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
        if task["status"] == "success":
            active.append(image_id)
        else:
            failures.append(task["message"])
    return active, failures


# --- five downloads of unknown size at once -------------------------------------------------------

SERVED = b"w" * (3 * MIB // 2)  # 1.5 MiB, served without a length (unknown size: admitted with delta 0)


class UnsizedHandler(QuietHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)  # no ranges, no Content-Length: the body ends when the connection closes
        self.end_headers()
        self.wfile.write(SERVED)


@pytest.fixture(scope="module")
def web_handler():
    return UnsizedHandler


class TestDownloads:
    @pytest.fixture
    def stack_config(self, web_server_config):
        limit(web_server_config, image_size_total=2, image_stage_total=2)
        return web_server_config

    def test_five_downloads_of_unknown_size_end_at_most_one_image_over_the_limit(self, stack, member, web_base):
        admitted = held_until(stack, "WebDownloadFunction")
        image_ids = [member.create()["id"] for _ in range(5)]
        for image_id in image_ids:
            body = {"method": {"name": "web-download", "uri": f"{web_base}/disk.img"}}
            assert member.call("POST", f"/v2/images/{image_id}/import", body).status == 202
        admitted.set()  # all five admitted under the limits: now the bytes may arrive
        wait_for_executions(stack)

        active, failures = outcomes(member, image_ids)
        usage = counters()
        assert usage.get("image_size_total", 0) <= 2 * MIB + len(SERVED)  # the limit, plus one image
        assert usage.get("image_stage_total", 0) == 0
        assert 1 <= len(active) <= 2 and len(failures) == 5 - len(active)
        assert all(OVER in message and "is over limit of 2" in message for message in failures), failures
        for image_id in set(image_ids) - set(active):
            assert member.show(image_id)["status"] == "queued"  # a failed download keeps nothing
        assert overruns() == {}  # every import is over: no slot stays taken
        assert_counted(stack)
        assert_consistent(stack)


# --- a small gzip that decompresses to much more ----------------------------------------------------


class TestDecompression:
    @pytest.fixture
    def stack_config(self, tmp_path):
        target = tmp_path / "data-plugins"
        shutil.copytree(ROOT / "config" / "examples" / "data-plugins", target)
        set_option(
            target, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[image_decompression]"
        )
        limit(target, image_stage_total=3)
        return target

    def test_two_decompressions_admitted_together_one_may_go_over_the_other_fails(self, stack, member):
        expanded = 20 * MIB
        admitted = held_until(stack, plugin_function_id("image_decompression"))
        image_ids = []
        for _ in range(2):
            image = member.create(disk_format="raw", container_format="bare")
            assert member.stage(image["id"], gzip.compress(b"\0" * expanded)).status == 204  # ~20 KiB staged
            image_ids.append(image["id"])
        for image_id in image_ids:
            assert member.import_(image_id).status == 202
        admitted.set()
        wait_for_executions(stack)

        active, failures = outcomes(member, image_ids)
        assert len(active) == 1, failures
        [message] = failures
        assert OVER in message and "image_stage_total is over limit of 3" in message
        [failed] = set(image_ids) - set(active)
        assert member.show(failed)["status"] == "uploading"  # its staged gzip kept, the replacement gone
        assert not [key for key in bucket_keys(stack, "StagingBucket") if key.startswith("plugin-data/")]
        assert overruns() == {}
        assert_counted(stack)


# --- one import written to every store counts once per store -------------------------------------


class TestAllStores:
    @pytest.fixture
    def stack_config(self, config_dir):
        from tests.support.multi_store import configure_stores

        configure_stores(config_dir)
        limit(config_dir, image_size_total=5)
        return config_dir

    @pytest.fixture
    def stores_stack(self, stack):
        from tests.support.multi_store import create_store_buckets

        create_store_buckets()
        return stack

    def staged(self, api: Api, size: int) -> str:
        image_id = api.create()["id"]
        assert api.stage(image_id, b"s" * size).status == 204
        return image_id

    def test_an_all_stores_import_claims_its_size_once_per_store(self, stores_stack, admin):
        image_id = self.staged(admin, 2 * MIB)
        body = {"method": {"name": "glance-direct"}, "all_stores": True}
        assert admin.call("POST", f"/v2/images/{image_id}/import", body).status == 202  # Glance: then the task fails
        [task] = admin.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
        assert task["status"] == "failure"
        assert "image_size_total is over limit of 5 due to current usage 0 and delta 6" in task["message"]
        assert admin.show(image_id)["status"] == "uploading"

    def test_within_the_limit_it_is_counted_in_every_store(self, stores_stack, admin):
        image_id = self.staged(admin, 1 * MIB)
        body = {"method": {"name": "glance-direct"}, "all_stores": True}
        assert admin.call("POST", f"/v2/images/{image_id}/import", body).status == 202
        wait_for_executions(stores_stack)
        assert admin.show(image_id)["status"] == "active"
        assert counters("admin")["image_size_total"] == 3 * MIB
        assert_counted(stores_stack)


# --- uploads of undeclared size, all admitted at once ----------------------------------------------


class TestUndeclaredUploads:
    @pytest.fixture
    def stack_config(self, config_dir):
        limit(config_dir, image_stage_total=2, image_size_total=2)
        return config_dir

    def uploads_at_once(self, stack, member: Api, route: str, count: int = 3) -> list:
        """``count`` uploads of 1.5 MiB, none declaring its size, each admitted (under the limit) before any
        writes a byte: their bodies wait for one another."""
        from image_import.adapters.ports import default_ports
        from image_import.intake.file_upload import upload_image
        from image_import.intake.stage import stage_image
        from image_import.models import RequestContext
        from image_import.settings import get_settings

        call = stage_image if route == "stage" else upload_image
        context = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"])
        image_ids = [member.create()["id"] for _ in range(count)]
        together = threading.Barrier(count, timeout=30)
        outcomes: list = [None] * count

        def body():
            together.wait()  # every upload has passed its admission
            yield SERVED

        def upload(index: int) -> None:
            try:
                call(context, image_ids[index], body(), None, get_settings(), default_ports())
                outcomes[index] = "stored"
            except Exception as exc:
                outcomes[index] = exc

        threads = [threading.Thread(target=upload, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return list(zip(image_ids, outcomes, strict=True))

    @pytest.mark.parametrize(("route", "resource", "stored_status"), [("stage", "image_stage_total", "uploading"), ("file", "image_size_total", "active")])  # fmt: skip
    def test_one_may_end_over_the_limit_the_others_are_413_and_keep_nothing(
        self, stack, member, route, resource, stored_status
    ):
        from image_import.errors import RequestEntityTooLarge

        results = self.uploads_at_once(stack, member, route)
        stored = [image_id for image_id, outcome in results if outcome == "stored"]
        refused = [outcome for _, outcome in results if outcome != "stored"]
        assert len(stored) == 2, results  # 1.5 MiB within the limit, then one across it (3 MiB)
        [over] = refused
        assert isinstance(over, RequestEntityTooLarge) and f"{resource} is over limit of 2" in str(over)
        assert counters()[resource] == 2 * len(SERVED)
        assert sorted(member.show(i)["status"] for i, _ in results) == sorted([stored_status] * 2 + ["queued"])
        assert_counted(stack)

"""A reverted copy-image removes only the new stores' copies; the image stays active in its stores."""

from __future__ import annotations

import dataclasses

from image_import.models import Image, ImportJob, RequestContext, Task
from image_import.models.image import ImportLock
from image_import.models.job import StepError
from image_import.settings import load_settings
from image_import.workflow.revert import revert
from tests.support.fakes import FakeBucket, fake_ports
from tests.support.multi_store import configure_stores

ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["admin"], is_admin=True, request_id="r")
KEY = "images/i"
NOW = "2026-12-02T00:00:00Z"


def test_a_failed_copy_image_reverts_the_new_stores_only_and_the_image_stays_active(config_dir):
    settings = load_settings(configure_stores(config_dir))
    ports = dataclasses.replace(fake_ports(), stores={"cheap": FakeBucket("cheap"), "edge": FakeBucket("edge")})
    for bucket in (ports.store, ports.stores["cheap"], ports.stores["edge"]):
        bucket.put(KEY, b"data")  # fast: the image's own; cheap and edge: what the copy wrote
    ports.images.create(
        Image(id="i", status="active", owner="admin", checksum="c", stores=["fast"],
              import_lock=ImportLock(task_id="t", taken_at="2026-12-02T00:00:00Z"),
              properties={"os_glance_importing_to_stores": "cheap,edge", "os_glance_failed_import": ""})
    )  # fmt: skip
    ports.tasks.create(Task(id="t", owner="admin", image_id="i", status="processing", created_at=NOW, updated_at=NOW))
    job = ImportJob(
        image_id="i", task_id="t", method="copy-image", context=ADMIN, staging_key="staging/i",
        stores=["cheap", "edge"], copy_targets=["cheap", "edge"], source_store="fast",
        store_results=[{"store": "cheap"}, {"store": "edge", "error": {"Error": "PassInterrupted"}}],
        error=StepError(Error="ImportFailed", Cause='{"errorMessage": "edge failed"}'),
    )  # fmt: skip
    revert(job, settings, ports)
    image = ports.images.get("i")
    assert (image.status, image.stores, image.import_lock, image.checksum) == ("active", ["fast"], None, "c")
    assert image.properties == {"os_glance_importing_to_stores": "", "os_glance_failed_import": "edge"}
    assert KEY in ports.store.objects  # never the stores the image was in
    assert KEY not in ports.stores["cheap"].objects and KEY not in ports.stores["edge"].objects
    assert ports.tasks.get("t").status == "failure"

"""The document that travels between the states: what the import is, then one slice per step for what
that step wrote (models/job.py), ids and keys only."""

from __future__ import annotations

import json

from image_import.models import ImportJob, RequestContext
from image_import.models.job import CopyState, DownloadSlice, DownloadState, KnownDigests, PluginsSlice, StoreSlice

IMAGE, TASK = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000aa"
CONTEXT = RequestContext(user_id="u", project_id="p", roles=["member"], request_id="r")
DIGESTS = {"etag": '"e"', "size": 10, "checksum": "c" * 32, "hash_algo": "sha512", "hash_value": "h" * 128}


def a_finished_web_download() -> ImportJob:
    return ImportJob(
        image_id=IMAGE, task_id=TASK, method="web-download", context=CONTEXT, staging_key=f"staging/{IMAGE}",
        download=DownloadSlice(
            uri="http://example.com/disk.img",
            progress=DownloadState(uri="http://example.com/disk.img", size=10, part_size=5, upload_id="u1", done=True),
            digests=KnownDigests(**DIGESTS),
        ),
        plugins=PluginsSlice(done=["no_op"], replacements=[f"plugin-data/{IMAGE}.{TASK}.no_op"]),
        store=StoreSlice(key=f"images/{IMAGE}", progress=CopyState(size=10, source_etag='"e"', part_size=5, done=True)),
        steps_done=["WebDownload", "VerifyStaging", "Plugin-no_op", "ImportToStore"],
    )  # fmt: skip


def test_each_step_writes_its_own_slice_and_the_document_stays_small():
    state = a_finished_web_download().to_state()

    assert {"download", "plugins", "store"} <= state.keys()
    assert not {"source_uri", "staged_digests", "plugins_done", "replacements", "store_key", "store_copy"} & set(state)
    assert len(json.dumps(state)) < 2048  # ids, keys and a few hundred bytes of progress: never data


def test_the_document_round_trips_through_the_state_machine_as_json():
    job = a_finished_web_download()
    assert ImportJob.model_validate(json.loads(json.dumps(job.to_state()))) == job


def test_a_flat_document_of_an_execution_started_before_the_slices_reads_as_its_slices():
    flat = {
        "image_id": IMAGE, "task_id": TASK, "method": "web-download", "context": CONTEXT.model_dump(mode="json"),
        "staging_key": f"staging/{IMAGE}", "source_uri": "http://example.com/disk.img",
        "download": {"uri": "http://example.com/disk.img", "size": 10, "part_size": 5, "upload_id": "u1"},
        "staged_digests": DIGESTS, "plugins_done": ["no_op"], "replacements": [f"plugin-data/{IMAGE}.{TASK}.no_op"],
        "store_key": f"images/{IMAGE}", "store_copy": {"size": 10, "source_etag": '"e"', "part_size": 5},
        "steps_done": ["WebDownload"],
    }  # fmt: skip

    job = ImportJob.model_validate(flat)

    assert job.download is not None and job.download.uri == "http://example.com/disk.img"
    assert job.download.progress is not None and job.download.progress.upload_id == "u1"
    assert job.download.digests == KnownDigests(**DIGESTS)
    assert job.plugins == PluginsSlice(done=["no_op"], replacements=[f"plugin-data/{IMAGE}.{TASK}.no_op"])
    assert job.store.key == f"images/{IMAGE}" and job.store.progress is not None
    assert job.data_key == f"plugin-data/{IMAGE}.{TASK}.no_op"


def test_a_flat_glance_direct_document_has_no_download_slice():
    flat = {
        "image_id": IMAGE, "task_id": TASK, "context": CONTEXT.model_dump(mode="json"),
        "staging_key": f"staging/{IMAGE}", "replacements": [], "plugins_done": [], "steps_done": [],
    }  # fmt: skip
    job = ImportJob.model_validate(flat)
    assert job.download is None and job.plugins == PluginsSlice()

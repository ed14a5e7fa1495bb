"""web-download in passes against moto's S3 and a local HTTP server that serves ranges.

The step is driven as the state machine drives it: one call per pass, the job crossing JSON between
passes, a pass that raised PassInterrupted run again with the same input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import socket
import struct
import time

import pytest

from image_import.errors import PassInterrupted
from image_import.models import ImportJob, RequestContext
from tests.support.config import set_option
from tests.support.web import QuietHandler

MIB = 1024 * 1024
DATA = os.urandom(40 * MIB)
ETAG = '"disk-v1"'
MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"], request_id="req-passes")


class RangeHandler(QuietHandler):
    """Serves DATA at /disk.img with Range and If-Range; ``drop`` names requests to cut off half-way."""

    protocol_version = "HTTP/1.1"
    sent = 0
    requests: list[dict] = []
    drop: set[int] = set()
    length = len(DATA)  # how much of DATA the file is

    def do_GET(self):  # noqa: N802 (http.server's naming)
        number = len(RangeHandler.requests) + 1
        RangeHandler.requests.append(dict(self.headers))
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        size = RangeHandler.length
        if wanted and (if_range is None or if_range == ETAG):
            first, last = int(wanted[1]), min(int(wanted[2]), size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        else:
            first, last = 0, size - 1
            self.send_response(200)
        body = memoryview(DATA)[first : last + 1]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", ETAG)
        self.end_headers()
        if number in RangeHandler.drop:
            half = len(body) // 2
            self.wfile.write(body[:half])
            RangeHandler.sent += half
            self.wfile.flush()
            # a reset, not a clean close: the client sees the connection break mid-body
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.wfile.write(body)
        RangeHandler.sent += len(body)


@pytest.fixture(scope="module")
def web_handler():
    return RangeHandler


@pytest.fixture
def stack_config(web_server_config):
    set_option(web_server_config, "glance-image-import.conf", "image_import_opts", "max_bytes_per_pass", str(8 * MIB))
    return web_server_config


@pytest.fixture
def served(web_base):
    RangeHandler.sent, RangeHandler.requests, RangeHandler.drop, RangeHandler.length = 0, [], set(), len(DATA)
    return f"{web_base}/disk.img"


class NoWorkflow:
    """Records the execution instead of starting it: the test runs the passes itself."""

    def __init__(self):
        self.started = []

    def start(self, name, document):
        self.started.append(document)
        return f"arn:execution:{name}"

    def status(self, name):
        return "RUNNING"


def started_job(stack, stack_config, member, uri):
    from image_import.adapters.ports import default_ports
    from image_import.settings import load_settings
    from image_import.workflow.start import start_import

    settings = load_settings(stack_config)
    ports = dataclasses.replace(default_ports(), workflow=NoWorkflow())
    image = member.create()
    start_import(MEMBER, image["id"], {"method": {"name": "web-download", "uri": uri}}, settings, ports)
    [document] = ports.workflow.started
    return ImportJob.model_validate(document), settings, ports


def run_passes(job, settings, ports, limit=20):
    """Pass after pass until done, as the state machine loops; returns the job, passes and retries."""
    from image_import.steps import web_download

    passes = retries = 0
    while passes < limit:
        try:
            out = web_download.download(job, settings, ports, time.monotonic() + 300)
        except PassInterrupted:
            retries += 1  # the state machine's Retry: the same input again
            continue
        passes += 1
        job = ImportJob.model_validate(json.loads(json.dumps(out.to_state())))
        if job.download.progress.done:
            return job, passes, retries
    raise AssertionError("the download never finished")


def staged_bytes(stack, key: str) -> bytes:
    import boto3

    return boto3.client("s3").get_object(Bucket=stack.physical_name("StagingBucket"), Key=key)["Body"].read()


def test_given_8_mib_passes_when_40_mib_are_downloaded_then_5_passes_stage_them_with_their_digests(
    stack, stack_config, member, served
):
    job, settings, ports = started_job(stack, stack_config, member, served)
    job, passes, retries = run_passes(job, settings, ports)
    assert (passes, retries) == (5, 0)
    assert staged_bytes(stack, job.staging_key) == DATA
    digests = job.download.digests
    assert (digests.size, digests.checksum) == (len(DATA), hashlib.md5(DATA).hexdigest())
    assert (digests.hash_algo, digests.hash_value) == ("sha512", hashlib.sha512(DATA).hexdigest())
    assert (len(DATA), digests.etag) == ports.staging.head(job.staging_key)
    assert digests.etag.endswith("-5")  # five parts of 8 MiB, completed from ListParts
    assert [r.get("Range") for r in RangeHandler.requests] == [
        f"bytes={i * 8 * MIB}-{(i + 1) * 8 * MIB - 1}" for i in range(5)
    ]
    assert [r.get("If-Range") for r in RangeHandler.requests] == [None] + [ETAG] * 4
    assert RangeHandler.sent == len(DATA)
    assert len(json.dumps(job.to_state()["download"])) < 1000


def test_given_a_connection_reset_in_pass_3_of_5_when_retried_then_it_finishes_rereading_at_most_one_pass(
    stack, stack_config, member, served
):
    job, settings, ports = started_job(stack, stack_config, member, served)
    RangeHandler.drop = {3}  # the third request: pass 3's first try
    job, passes, retries = run_passes(job, settings, ports)
    assert (passes, retries) == (5, 1)
    assert staged_bytes(stack, job.staging_key) == DATA
    assert job.download.digests.hash_value == hashlib.sha512(DATA).hexdigest()
    assert job.download.digests.checksum == hashlib.md5(DATA).hexdigest()
    assert 0 < RangeHandler.sent - len(DATA) <= 8 * MIB  # bytes sent twice: at most one pass


def test_given_8_mib_passes_when_the_state_machine_imports_20_mib_then_webdownload_runs_three_times(
    stack, member, served
):
    import boto3

    from tests.support.stack_state import wait_for_executions

    RangeHandler.length = 20 * MIB
    image = member.create()
    reply = member.call("POST", f"/v2/images/{image['id']}/import", {"method": {"name": "web-download", "uri": served}})
    assert reply.status == 202, reply.text
    [execution] = wait_for_executions(stack)
    shown = member.show(image["id"])
    assert shown["status"] == "active", execution
    data = DATA[: 20 * MIB]
    assert (shown["size"], shown["checksum"]) == (len(data), hashlib.md5(data).hexdigest())
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    sfn = boto3.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered.count("WebDownload") == 3 and entered.count("DownloadDone") == 3

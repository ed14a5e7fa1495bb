"""web-download in passes against in-memory adapters and a scripted server that serves (or ignores) ranges."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re

import pytest

from image_import.errors import ImportFailed, PassInterrupted
from image_import.models import ImportJob
from image_import.models.job import StepError
from image_import.policy.uri_filter import Target
from image_import.steps import web_download
from image_import.steps.progress import MIB, Progress
from image_import.workflow import revert
from tests.support.fakes import fake_ports
from tests.support.web_download import started

PART = 64  # bytes: the tests shrink S3's parts so that a few KiB make many of them
DATA = os.urandom(1000)
ETAG = '"v1"'


class RangedFile:
    """A server for one file that honours Range and If-Range (or, ``ranges=False``, ignores them)."""

    def __init__(self, data=DATA, ranges=True, etag=ETAG, last_modified=None):
        self.data, self.ranges, self.etag, self.last_modified = data, ranges, etag, last_modified
        self.requests: list[tuple[Target, dict]] = []
        self.sent = 0  # body bytes handed out
        self.redirects: dict[str, str] = {}  # path -> Location
        self.fail_next: list[Exception | int | None] = []  # per request: raise mid-body, answer a status, or serve

    def get(self, target: Target, headers=None):
        headers = dict(headers or {})
        self.requests.append((target, headers))
        path = target.path.strip("/")
        if path in self.redirects:
            return Answer(self, 302, b"", {"Location": self.redirects[path]})
        fault = self.fail_next.pop(0) if self.fail_next else None
        if isinstance(fault, int):
            return Answer(self, fault, b"")
        validators = {"ETag": self.etag, "Last-Modified": self.last_modified}
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", headers.get("Range", ""))
        if_range = headers.get("If-Range")
        if not self.ranges or wanted is None or (if_range and if_range not in (self.etag, self.last_modified)):
            return Answer(self, 200, self.data, validators, fault)
        first = int(wanted[1])
        last = min(int(wanted[2]) if wanted[2] else len(self.data) - 1, len(self.data) - 1)
        body = self.data[first : last + 1]
        return Answer(self, 206, body, {**validators, "Content-Range": f"bytes {first}-{last}/{len(self.data)}"}, fault)


class Answer:
    def __init__(self, server, status, body, headers=None, fault=None):
        self.server, self.status, self.body, self.fault = server, status, body, fault
        self.headers = {"Content-Length": str(len(body)), **{k: v for k, v in (headers or {}).items() if v}}
        self.closed = False

    def header(self, name):
        return self.headers.get(name)

    def chunks(self):
        for i in range(0, len(self.body), 16):
            if self.fault is not None and i >= len(self.body) // 2:
                raise self.fault  # the connection drops half-way through the answer
            self.server.sent += len(self.body[i : i + 16])
            yield self.body[i : i + 16]

    def close(self):
        self.closed = True


@pytest.fixture
def small_parts(monkeypatch):
    from image_import.transfer import parts

    monkeypatch.setattr(web_download, "MIN_PART_SIZE", PART)  # the first pass's range
    monkeypatch.setattr(parts, "MIN_PART_SIZE", PART)
    monkeypatch.setattr(parts, "ALIGN", 1)


def passes_of(settings, per_pass=4 * PART, **changes):
    return dataclasses.replace(settings, max_bytes_per_pass=per_pass, **changes)


def one_pass(job, settings, ports, web, **kwargs) -> ImportJob:
    """A pass as the state machine runs it: the job crosses JSON on the way in and out."""
    done = web_download.download(job, settings, ports, fetcher=web, **kwargs)
    return ImportJob.model_validate(json.loads(json.dumps(done.to_state())))


def until_done(job, settings, ports, web, limit=50, **kwargs) -> tuple[ImportJob, int]:
    for count in range(1, limit + 1):
        job = one_pass(job, settings, ports, web, **kwargs)
        if job.download.progress and job.download.progress.done:
            return job, count
    raise AssertionError("the download never finished")


def assert_staged(ports, job, data=DATA, algo="sha512"):
    assert ports.staging.objects[job.staging_key] == data
    digests = job.download.digests
    assert (digests.size, digests.checksum) == (len(data), hashlib.md5(data).hexdigest())
    assert (digests.hash_algo, digests.hash_value) == (algo, hashlib.new(algo, data).hexdigest())
    assert digests.etag == ports.staging.etag(job.staging_key)
    assert ports.staging.multipart == {}  # completed: no upload left


def test_given_a_server_that_serves_ranges_when_downloaded_then_each_pass_fetches_its_range_into_parts(
    settings, small_parts
):
    ports, web = fake_ports(), RangedFile()
    job = started(settings, ports)
    job, count = until_done(job, passes_of(settings), ports, web)
    assert count == 4  # 1000 bytes, 256 a pass
    assert_staged(ports, job)
    ranges = [(h.get("Range"), h.get("If-Range")) for _, h in web.requests]
    assert ranges == [
        ("bytes=0-255", None),
        ("bytes=256-511", ETAG),
        ("bytes=512-767", ETAG),
        ("bytes=768-999", ETAG),
    ]
    assert web.sent == len(DATA)  # nothing read twice
    assert (
        job.download.progress.passes == 4 and job.download.progress.part == 17
    )  # 16 parts (15 of 64 bytes, one of 40)


def test_given_a_pass_between_the_first_and_the_last_then_its_state_is_small_and_json(settings, small_parts):
    ports = fake_ports()
    job = one_pass(started(settings, ports), passes_of(settings), ports, RangedFile())
    state = job.download.progress
    assert (state.offset, state.size, state.part_size, state.done) == (256, 1000, PART, False)
    assert state.uri == "http://93.184.216.34/disk.img" and state.validator == ETAG
    assert len(json.dumps(job.to_state()["download"])) < 1000  # MD5 and SHA-512 states included
    assert job.download.digests is None and job.staging_key not in ports.staging.objects


def test_given_a_download_state_written_with_its_nulls_when_the_next_pass_runs_then_it_reads_and_finishes(
    settings, small_parts
):
    """Jobs written before DownloadState was a model carry every field, None ones included."""
    ports, web = fake_ports(), RangedFile(etag=None)  # no validator to send as If-Range
    job = one_pass(started(settings, ports), passes_of(settings), ports, web)
    document = json.loads(json.dumps(job.to_state()))
    assert "validator" not in document["download"]  # left out when None, as every field of the job
    document["download"] = {"validator": None, **document["download"]}  # as dataclasses.asdict() wrote it
    job, _ = until_done(ImportJob.model_validate(document), passes_of(settings), ports, web)
    assert_staged(ports, job)
    assert [h.get("If-Range") for _, h in web.requests] == [None] * 4


def test_given_a_server_that_ignores_ranges_when_downloaded_then_one_pass_fetches_everything(settings, small_parts):
    ports, web = fake_ports(), RangedFile(ranges=False)
    job = started(settings, ports)
    job, count = until_done(job, passes_of(settings), ports, web)
    assert count == 1
    assert_staged(ports, job)


def test_given_a_server_that_ignores_ranges_and_a_deadline_when_downloaded_then_it_fails_saying_why(
    settings, small_parts
):
    ports, web = fake_ports(), RangedFile(ranges=False)
    job = started(settings, ports)
    with pytest.raises(ImportFailed, match="does not serve ranges.*could not finish in one function call"):
        web_download.download(job, passes_of(settings), ports, deadline=0.0, fetcher=web, clock=lambda: 1.0)
    assert ports.staging.objects == {} and ports.staging.multipart == {}


def test_given_an_algorithm_that_cannot_be_resumed_when_downloaded_then_it_gets_one_pass(settings, small_parts):
    ports, web = fake_ports(), RangedFile()
    job = started(settings, ports)
    sha3 = passes_of(settings, hashing_algorithm="sha3_256")
    job, count = until_done(job, sha3, ports, web)
    assert count == 1 and "Range" not in web.requests[0][1]
    assert_staged(ports, job, algo="sha3_256")
    with pytest.raises(ImportFailed, match="sha3_256 hashing cannot be resumed"):
        other = fake_ports()
        web_download.download(started(settings, other), sha3, other, deadline=0.0, fetcher=web, clock=lambda: 1.0)


def test_given_the_source_changed_between_passes_when_downloading_then_it_fails_and_keeps_nothing(
    settings, small_parts
):
    ports, web = fake_ports(), RangedFile()
    job = one_pass(started(settings, ports), passes_of(settings), ports, web)
    web.data, web.etag = os.urandom(1000), '"v2"'  # If-Range no longer matches: the server sends 200, all of it
    with pytest.raises(ImportFailed, match="changed during the download"):
        one_pass(job, passes_of(settings), ports, web)
    assert ports.staging.objects == {} and ports.staging.multipart == {}


def test_given_only_last_modified_when_downloading_then_later_passes_send_it_as_if_range(settings, small_parts):
    ports = fake_ports()
    web = RangedFile(etag='W/"weak"', last_modified="Tue, 01 Dec 2026 10:00:00 GMT")  # weak ETags never match
    job, _ = until_done(started(settings, ports), passes_of(settings), ports, web)
    assert {h.get("If-Range") for _, h in web.requests[1:]} == {"Tue, 01 Dec 2026 10:00:00 GMT"}
    assert_staged(ports, job)


def test_given_a_redirect_when_downloading_in_passes_then_every_pass_checks_the_uri_again(settings, small_parts):
    ports, web = fake_ports(), RangedFile()
    answers = {"images.example.com": ["93.184.216.34"], "mirror.example.com": ["93.184.216.35"]}
    looked_up = []

    def resolve(host):
        looked_up.append(host)
        return answers[host]

    job = started(settings, ports).with_slice("download", uri="http://images.example.com/moved")
    web.redirects["moved"] = "http://mirror.example.com/disk.img"
    job = one_pass(job, passes_of(settings), ports, web, resolve=resolve)
    assert job.download.progress.uri == "http://mirror.example.com/disk.img"  # later passes fetch where it led
    job = one_pass(job, passes_of(settings), ports, web, resolve=resolve)
    assert looked_up == ["images.example.com", "mirror.example.com", "mirror.example.com"]
    answers["mirror.example.com"] = ["127.0.0.1"]  # the name now points inside
    with pytest.raises(ImportFailed, match="loopback"):
        one_pass(job, passes_of(settings), ports, web, resolve=resolve)
    assert [t.address for t, _ in web.requests] == ["93.184.216.34", "93.184.216.35", "93.184.216.35"]
    web.redirects["disk.img"] = "http://10.0.0.1/disk.img"  # and a later pass's redirect is checked too
    answers["mirror.example.com"] = ["93.184.216.35"]
    with pytest.raises(ImportFailed, match="private"):
        one_pass(job, passes_of(settings), ports, web, resolve=resolve)
    assert "10.0.0.1" not in [t.address for t, _ in web.requests]


def test_given_a_deadline_when_a_pass_runs_then_it_stops_at_a_part_boundary_and_the_next_goes_on(settings, small_parts):
    ports, web = fake_ports(), RangedFile()
    ticks = iter(range(1000))
    clock = lambda: next(ticks)  # noqa: E731  # one tick for every part
    job = one_pass(started(settings, ports), passes_of(settings), ports, web, deadline=1, clock=clock)
    assert job.download.progress.offset == 2 * PART and job.download.progress.part == 3  # stopped after its second part
    assert ports.staging.parts[job.download.progress.upload_id].keys() == {1, 2}
    job, _ = until_done(job, passes_of(settings), ports, web)
    assert_staged(ports, job)


def test_given_a_total_over_the_size_cap_when_the_first_range_answers_then_it_fails_before_reading(
    settings, small_parts
):
    ports, web = fake_ports(), RangedFile()
    capped = passes_of(settings, image_size_cap=999)
    with pytest.raises(ImportFailed, match="The download is 1000 bytes, over the size cap of 999 bytes"):
        one_pass(started(settings, ports), capped, ports, web)
    assert web.sent == 0 and ports.staging.multipart == {}


def test_given_a_connection_that_drops_mid_pass_when_the_pass_is_run_again_then_it_resumes_from_its_input(
    settings, small_parts
):
    ports, web = fake_ports(), RangedFile()
    job = one_pass(started(settings, ports), passes_of(settings), ports, web)
    web.fail_next = [ConnectionResetError("reset by peer")]
    with pytest.raises(PassInterrupted, match="broke off"):
        one_pass(job, passes_of(settings), ports, web)
    job, _ = until_done(job, passes_of(settings), ports, web)  # the state machine's retry: the same input
    assert_staged(ports, job)
    assert web.sent - len(DATA) <= 4 * PART  # what was read twice: at most one pass


def test_given_a_server_error_in_a_later_pass_then_the_pass_is_retried_but_a_404_fails(settings, small_parts):
    ports, web = fake_ports(), RangedFile()
    job = one_pass(started(settings, ports), passes_of(settings), ports, web)
    web.fail_next = [503]
    with pytest.raises(PassInterrupted, match="HTTP 503"):
        one_pass(job, passes_of(settings), ports, web)
    web.fail_next = [404]
    with pytest.raises(ImportFailed, match="HTTP 404"):
        one_pass(job, passes_of(settings), ports, web)


def test_given_a_failing_staging_bucket_when_a_part_is_uploaded_then_the_pass_is_interrupted(settings, small_parts):
    ports, web = fake_ports(), RangedFile()
    job = one_pass(started(settings, ports), passes_of(settings), ports, web)
    upload_part = ports.staging.upload_part

    def broken(*args):
        raise ConnectionError("S3 went away")

    ports.staging.upload_part = broken
    with pytest.raises(PassInterrupted, match="staging bucket failed"):
        one_pass(job, passes_of(settings), ports, web)
    assert job.download.progress.upload_id in ports.staging.multipart  # kept for the retry
    ports.staging.upload_part = upload_part
    job, _ = until_done(job, passes_of(settings), ports, web)
    assert_staged(ports, job)


@pytest.mark.parametrize("matches", [True, False])
def test_given_validation_data_when_the_last_pass_completes_then_it_is_checked_there(settings, small_parts, matches):
    ports, web = fake_ports(), RangedFile()
    value = hashlib.sha256(DATA if matches else b"other").hexdigest()
    job = started(settings, ports, validation_data={"os_hash_algo": "sha256", "os_hash_value": value})
    if matches:
        job, _ = until_done(job, passes_of(settings), ports, web)
        assert_staged(ports, job, algo="sha256")
        return
    with pytest.raises(ImportFailed) as raised:
        until_done(job, passes_of(settings), ports, web)
    assert f"not matched with actual sha256 os_hash_value: ({hashlib.sha256(DATA).hexdigest()})" in str(raised.value)
    assert ports.staging.objects == {} and ports.staging.multipart == {}  # checked before the store step runs


def test_given_a_failed_download_in_passes_when_reverted_then_its_upload_is_aborted(settings, small_parts):
    ports = fake_ports()
    job = one_pass(started(settings, ports), passes_of(settings), ports, RangedFile())
    assert job.download.progress.upload_id in ports.staging.multipart
    failed = job.model_copy(update={"error": StepError(Error="PassInterrupted", Cause='{"errorMessage": "reset"}')})
    revert.revert(failed, settings, ports)
    assert ports.staging.multipart == {} and ports.staging.objects == {}
    task = ports.tasks.get(job.task_id)
    assert task.status == "failure" and task.message.startswith("Import failed: reset.")


def test_given_a_later_pass_then_progress_counts_from_its_offset(settings):
    ports = fake_ports()
    job = started(settings, ports)
    progress = Progress(ports, job.task_id, start=3 * MIB)
    assert sum(map(len, progress.track([b"x" * MIB]))) == MIB
    assert ports.tasks.get(job.task_id).message == "Copied 4 MiB"

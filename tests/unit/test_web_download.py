"""The web-download method against in-memory adapters and a scripted web: start, step, revert."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from image_import.errors import BadRequest, ImportFailed
from image_import.models.job import StepError
from image_import.policy.uri_filter import Target
from image_import.steps import web_download
from image_import.steps import work as steps
from image_import.workflow import revert
from tests.support.fakes import fake_ports
from tests.support.web_download import URI, started, web_body

SHA512_OF_ABC = (
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)


class Reply:
    def __init__(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.status, self.body = status, body
        self.headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.closed = False

    def header(self, name):
        return self.headers.get(name)

    def chunks(self):
        yield from (self.body[i : i + 4] for i in range(0, len(self.body), 4))

    def close(self):
        self.closed = True


class ScriptedWeb:
    """Answers by URI path; records the targets it was asked to connect to."""

    def __init__(self, **replies: Reply):
        self.replies, self.targets = replies, []

    def get(self, target: Target, headers=None):
        self.targets.append(target)
        return self.replies[target.path.strip("/")]


def test_given_a_queued_image_when_web_download_starts_then_it_is_importing_with_the_uri_in_the_job(settings):
    ports = fake_ports()
    job = started(settings, ports)
    assert ports.images.get(job.image_id).status == "importing"
    assert job.method == "web-download" and job.download.uri == URI
    assert job.staging_key == f"web-download/{job.image_id}"  # never under staging/, the uploads' prefix


def test_given_validation_data_when_web_download_starts_then_the_expected_digest_is_set_on_the_image(settings):
    ports = fake_ports()
    job = started(settings, ports, validation_data={"os_hash_algo": "sha512", "os_hash_value": SHA512_OF_ABC})
    image = ports.images.get(job.image_id)
    assert (image.os_hash_algo, image.os_hash_value) == ("sha512", SHA512_OF_ABC)


@pytest.mark.parametrize("algo", ["sha1", "sha256", "sha512", "md5"])
def test_given_validation_data_in_any_algorithm_glance_accepts_when_web_download_starts_then_it_is_set(settings, algo):
    ports = fake_ports()
    value = hashlib.new(algo, b"abc").hexdigest()
    job = started(settings, ports, validation_data={"os_hash_algo": algo, "os_hash_value": value.upper()})
    image = ports.images.get(job.image_id)
    assert (image.os_hash_algo, image.os_hash_value) == (algo, value)  # hex normalised to Glance's lower case


def test_given_no_validation_values_when_web_download_starts_then_nothing_is_expected(settings):
    ports = fake_ports()
    job = started(settings, ports, validation_data={})  # Glance's schema allows it: nothing to verify
    image = ports.images.get(job.image_id)
    assert (image.os_hash_algo, image.os_hash_value) == (None, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"os_hash_algo": "sha384", "os_hash_value": "0" * 96},
            "'sha384' is not one of ['sha1', 'sha256', 'sha512', 'md5']",
        ),
        ({"os_hash_algo": "sha256", "os_hash_value": "xyz"}, "os_hash_value (xyz) is not a valid hexadecimal value"),
        (
            {"os_hash_algo": "sha256", "os_hash_value": "ab" * 20},
            f"os_hash_value: ({'ab' * 20}) is not the correct size for (sha256) (should be (32) bytes)",
        ),
        ({"os_hash_algo": "sha512"}, "'os_hash_value' is a dependency of 'os_hash_algo'"),
        ({"os_hash_value": "ab" * 32}, "'os_hash_algo' is a dependency of 'os_hash_value'"),
        ({"os_hash_algo": "sha256", "os_hash_value": "ab" * 32, "checksum": "x"}, "Additional properties"),
        ("sha512:abc", "is not of type 'object'"),
    ],
)
def test_given_unusable_validation_data_when_web_download_starts_then_it_is_400_in_glances_words(
    settings, data, message
):
    with pytest.raises(BadRequest) as raised:
        started(settings, fake_ports(), validation_data=data)
    assert message in str(raised.value)


@pytest.mark.parametrize("matches", [True, False])
def test_given_sha256_validation_data_when_stored_then_the_image_gets_that_digest_or_fails_naming_it(settings, matches):
    ports = fake_ports()
    data = b"image bytes"
    expected = hashlib.sha256(data if matches else b"other").hexdigest()
    job = started(settings, ports, validation_data={"os_hash_algo": "sha256", "os_hash_value": expected})
    ports.staging.objects[job.staging_key] = data
    if matches:
        steps.import_to_store(job, settings, ports)
        image = ports.images.get(job.image_id)
        assert (image.os_hash_algo, image.os_hash_value) == ("sha256", expected)  # as Glance's location import
        assert image.checksum == hashlib.md5(data).hexdigest() and image.size == len(data)
    else:
        with pytest.raises(ImportFailed, match="sha256") as raised:
            steps.import_to_store(job, settings, ports)
        assert hashlib.sha256(data).hexdigest() in str(raised.value)
        assert ports.store.objects == {}


def test_given_a_served_image_when_the_step_runs_then_the_bytes_are_staged_from_the_checked_address(settings):
    ports = fake_ports()
    job = started(settings, ports)
    web = ScriptedWeb(**{"disk.img": Reply(200, b"image bytes")})
    web_download.download(job, settings, ports, fetcher=web)
    assert ports.staging.objects[job.staging_key] == b"image bytes"
    assert web.targets[0].address == "93.184.216.34"
    assert ports.tasks.get(job.task_id).status == "processing"


def test_given_a_redirect_when_the_step_runs_then_the_new_location_is_checked_before_connecting(settings):
    ports = fake_ports()
    job = started(settings, ports)
    web = ScriptedWeb(**{"disk.img": Reply(301, headers={"Location": "http://10.0.0.1/internal"})})
    with pytest.raises(ImportFailed, match="private"):
        web_download.download(job, settings, ports, fetcher=web)
    assert [t.address for t in web.targets] == ["93.184.216.34"]  # 10.0.0.1 never contacted
    assert ports.staging.objects == {}


def test_given_a_name_that_now_resolves_internally_when_the_step_runs_then_it_refuses(settings):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # DNS rebinding between the call and the step
    resolver = lambda host: next(answers)  # noqa: E731
    uri, _ = web_download.prepare(web_body("http://images.example.com/disk.img"), settings, resolver)
    web = ScriptedWeb()
    with pytest.raises(ImportFailed, match="loopback"):
        web_download._open(uri, settings, web, resolver)
    assert web.targets == []


def test_given_more_bytes_than_the_cap_when_the_step_runs_then_nothing_is_staged(settings):
    ports = fake_ports()
    job = started(settings, ports)
    capped = dataclasses.replace(settings, image_size_cap=8)
    web = ScriptedWeb(**{"disk.img": Reply(200, b"123456789", {"Content-Length": None})})
    with pytest.raises(ImportFailed, match="size cap"):
        web_download.download(job, capped, ports, fetcher=web)
    assert ports.staging.objects == {}


def test_given_a_failed_web_download_when_reverted_then_the_image_is_queued_with_nothing_kept(settings):
    ports = fake_ports()
    job = started(settings, ports)
    ports.staging.objects[job.staging_key] = b"partial"
    failed = job.model_copy(update={"error": StepError(Error="ImportFailed", Cause='{"errorMessage": "boom"}')})
    revert.revert(failed, settings, ports)
    image = ports.images.get(job.image_id)
    assert image.status == "queued" and image.size is None and image.import_lock is None
    assert ports.staging.objects == {}
    task = ports.tasks.get(job.task_id)
    assert task.status == "failure" and "import it again" in task.message

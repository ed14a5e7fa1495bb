"""glance-image-upload (client/): part sizing, resume planning, the state file, argument parsing, output.

The parts go over real HTTP to a small in-process stand-in for S3's presigned part URLs; the image API
is a fake with the answers of the service's upload-urls / upload-complete.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from image_import_client.api import ApiError, AuthError, Credentials, error_message, image_endpoint, token_source
from image_import_client.cli import credentials, image_fields, image_table, main, parser
from image_import_client.parts import MiB, OfferError, Part, check_offer, missing_parts, part_size_for, plan_parts
from image_import_client.state import FileIdentity, StateStore, UploadState
from image_import_client.transfer import Progress
from image_import_client.upload import UploadError, upload_image

PART = 5 * MiB


# ---------------------------------------------------------------- part sizing
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 8 * MiB),
        (200 * MiB, 8 * MiB),
        (8 * MiB * 10_000, 8 * MiB),  # exactly 10,000 parts of 8 MiB
        (8 * MiB * 10_000 + 1, 9 * MiB),  # one byte more: a larger part, never 10,001 parts
        (1024**4, 105 * MiB),  # 1 TiB: 10,000 parts of 105 MiB hold it
    ],
)
def test_part_size_is_the_smallest_whole_mib_from_8_mib_that_fits_10000_parts(size, expected):
    assert part_size_for(size) == expected
    assert len(plan_parts(size, expected)) <= 10_000


def test_the_parts_cover_the_file_exactly_the_last_one_shorter():
    parts = plan_parts(20 * MiB + 3, 8 * MiB)
    assert parts == [Part(1, 0, 8 * MiB), Part(2, 8 * MiB, 8 * MiB), Part(3, 16 * MiB, 4 * MiB + 3)]


def test_an_empty_file_is_one_empty_part():
    assert plan_parts(0, 8 * MiB) == [Part(1, 0, 0)]


def test_an_offer_is_checked_against_s3s_limits_and_the_file():
    assert len(check_offer(20 * MiB, 8 * MiB, [1, 2, 3])) == 3
    assert check_offer(3 * MiB, 8 * MiB, [1]) == [Part(1, 0, 3 * MiB)]  # one part may be under 5 MiB
    with pytest.raises(OfferError, match="outside S3"):
        check_offer(20 * MiB, 4 * MiB, [1, 2, 3, 4, 5])  # S3 refuses parts under 5 MiB but the last
    with pytest.raises(OfferError, match="needs 3"):
        check_offer(20 * MiB, 8 * MiB, [1, 2])  # URLs that do not cover the file
    with pytest.raises(OfferError, match="10000 parts"):
        check_offer(10_001 * PART, PART, list(range(1, 10_002)))


def test_the_missing_parts_are_those_not_recorded_as_stored():
    parts = plan_parts(40 * MiB, 8 * MiB)
    assert [p.number for p in missing_parts(parts, {1, 3, 5})] == [2, 4]
    assert missing_parts(parts, {1, 2, 3, 4, 5}) == []


# ---------------------------------------------------------------- a stand-in for S3's part URLs and the API
class PartServer:
    """Accepts PUT /<upload id>/<part number> like a presigned part URL; refuses as told."""

    def __init__(self):
        self.parts: dict[tuple[str, int], bytes] = {}
        self.received: list[int] = []  # part numbers, in the order they arrived
        self.refuse: dict[int, tuple[int, str]] = {}  # part number -> (status, S3 error code)
        self.gone: set[str] = set()  # upload ids that no longer exist
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                upload_id, number = self.path.strip("/").split("/")
                data = self.rfile.read(int(self.headers["Content-Length"]))
                refusal = (404, "NoSuchUpload") if upload_id in server.gone else server.refuse.get(int(number))
                if refusal:
                    body = f"<Error><Code>{refusal[1]}</Code><Message>refused</Message></Error>".encode()
                    self.send_response(refusal[0])
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                server.parts[(upload_id, int(number))] = data
                server.received.append(int(number))
                self.send_response(200)
                self.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def object(self, upload_id: str) -> bytes:
        numbers = sorted(n for u, n in self.parts if u == upload_id)
        return b"".join(self.parts[(upload_id, n)] for n in numbers)


class FakeApi:
    """The service's answers: upload-urls hands part URLs on the PartServer; completing makes the image active."""

    endpoint = "http://image.example"

    def __init__(self, s3: PartServer, part_size: int = PART, expires_in: int = 900):
        self.s3, self.part_size, self.expires_in = s3, part_size, expires_in
        self.images: dict[str, dict] = {}
        self.offers: list[str] = []
        self.sizes: dict[str, int] = {}
        self.resumed: list[str] = []
        self.completed: list[str] = []
        self.imports: list[str] = []

    def create_image(self, fields):
        image = {"id": f"image-{len(self.images) + 1}", "status": "queued", **fields}
        self.images[image["id"]] = image
        return dict(image)

    def get_image(self, image_id):
        if image_id not in self.images:
            raise ApiError(404, "No image found")
        return dict(self.images[image_id])

    def upload_urls(self, image_id, size, start_import):
        upload_id = f"upload-{len(self.offers) + 1}"
        self.offers.append(upload_id)
        self.sizes[upload_id] = size
        count = len(plan_parts(size, self.part_size))
        parts = [{"part_number": n, "url": f"{self.s3.url}/{upload_id}/{n}"} for n in range(1, count + 1)]
        multipart = {"upload_id": upload_id, "part_size": self.part_size, "parts": parts}
        return {"image_id": image_id, "size": size, "expires_in": self.expires_in, "multipart": multipart}

    def resume_upload_urls(self, image_id, upload_id):
        """The service re-signs the upload in progress and names the parts S3 holds (409 once it is gone)."""
        self.resumed.append(upload_id)
        if upload_id in self.s3.gone or upload_id != self.offers[-1]:
            raise ApiError(409, f"Image {image_id} has no multipart upload {upload_id!r} in progress.")
        offer = self.upload_urls(image_id, self.sizes[upload_id], True)
        self.offers.pop()
        offer["multipart"]["upload_id"] = upload_id
        for part in offer["multipart"]["parts"]:
            part["url"] = f"{self.s3.url}/{upload_id}/{part['part_number']}"
        held = sorted(n for u, n in self.s3.parts if u == upload_id)
        offer["multipart"]["parts_received"] = [
            {"part_number": n, "size": len(self.s3.parts[(upload_id, n)])} for n in held
        ]
        return offer

    def upload_complete(self, image_id, upload_id):
        self.completed.append(upload_id)
        data = self.s3.object(upload_id)
        self.images[image_id] |= {"status": "active", "size": len(data), "checksum": hashlib.md5(data).hexdigest()}

    def tasks(self, image_id):
        return []

    def start_import(self, image_id):
        self.imports.append(image_id)


@pytest.fixture
def s3():
    server = PartServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(os.urandom(4 * PART + 123))  # 5 parts, the last one short
    return path


def upload(path, api, store, **options):
    messages: list[str] = []
    options = {"parallel": 3, "poll": 0.01, "progress": False, "say": messages.append, **options}
    return upload_image(path, api, state=store, **options), messages


# ---------------------------------------------------------------- resume planning
def test_given_a_new_file_when_uploaded_then_every_part_is_sent_once_and_the_image_is_active(s3, image_file, tmp_path):
    api = FakeApi(s3)
    result, _ = upload(image_file, api, StateStore(tmp_path / "state"), image_fields={"name": "disk"})
    assert sorted(s3.received) == [1, 2, 3, 4, 5]
    assert s3.object("upload-1") == image_file.read_bytes()
    assert result.image["status"] == "active" and result.image["name"] == "disk"
    assert (result.parts_sent, result.parts_resumed, result.parts_total) == (5, 0, 5)
    assert not list((tmp_path / "state").glob("*.json"))  # done: nothing left to resume


def test_given_a_run_that_stopped_part_way_when_run_again_then_only_the_missing_parts_are_sent(
    s3, image_file, tmp_path
):
    api, store = FakeApi(s3), StateStore(tmp_path / "state")
    s3.refuse = {4: (403, "AccessDenied")}
    with pytest.raises(UploadError, match="part 4"):
        upload(image_file, api, store, image_fields={"name": "disk"})
    stored = set(store.load(api.endpoint, FileIdentity.of(image_file)).done)
    assert 4 not in stored and stored  # what S3 acknowledged is recorded
    s3.refuse, s3.received = {}, []

    result, messages = upload(image_file, api, store, image_fields={"name": "disk"})

    assert sorted(s3.received) == sorted({1, 2, 3, 4, 5} - stored)  # only what was missing
    assert api.offers == ["upload-1"] and len(api.images) == 1  # the same upload of the same image
    assert s3.object("upload-1") == image_file.read_bytes()
    assert (result.parts_sent, result.parts_resumed) == (5 - len(stored), len(stored))
    assert any("not creating another image" in m for m in messages)


def test_given_the_earlier_runs_urls_expired_when_run_again_then_the_same_upload_goes_on_with_new_urls(
    s3, image_file, tmp_path
):
    api, store = FakeApi(s3, expires_in=60), StateStore(tmp_path / "state")  # 60 s: all within the expiry margin
    s3.refuse = {2: (403, "AccessDenied")}
    with pytest.raises(UploadError):
        upload(image_file, api, store, image_fields={"name": "disk"})
    held = {n for u, n in s3.parts if u == "upload-1"}
    s3.refuse, s3.received = {}, []
    result, messages = upload(image_file, api, store, image_fields={"name": "disk"})
    assert api.resumed == ["upload-1"] and api.offers == ["upload-1"]  # re-signed, not started again
    assert sorted(s3.received) == sorted({1, 2, 3, 4, 5} - held)  # S3's word on what it holds
    assert any("signed new ones" in m for m in messages)
    assert s3.object("upload-1") == image_file.read_bytes() and api.completed == ["upload-1"]


def test_given_urls_that_expire_during_the_upload_then_it_goes_on_with_new_ones(s3, image_file, tmp_path):
    api, store = FakeApi(s3), StateStore(tmp_path / "state")
    s3.refuse = {3: (403, "AccessDenied: Request has expired")}

    def resume(image_id, upload_id, real=api.resume_upload_urls):
        s3.refuse = {}  # the new URLs are valid
        return real(image_id, upload_id)

    api.resume_upload_urls = resume
    result, messages = upload(image_file, api, store, image_fields={"name": "disk"})
    assert api.offers == ["upload-1"] and api.completed == ["upload-1"]
    assert any("expired during the upload" in m for m in messages)
    assert s3.object("upload-1") == image_file.read_bytes()


def test_given_expired_urls_of_an_upload_that_is_gone_then_the_upload_starts_afresh(s3, image_file, tmp_path):
    api, store = FakeApi(s3, expires_in=60), StateStore(tmp_path / "state")
    s3.refuse = {2: (403, "AccessDenied")}
    with pytest.raises(UploadError):
        upload(image_file, api, store, image_fields={"name": "disk"})
    s3.refuse, s3.received, s3.gone = {}, [], {"upload-1"}
    result, messages = upload(image_file, api, store, image_fields={"name": "disk"})
    assert api.offers == ["upload-1", "upload-2"] and sorted(s3.received) == [1, 2, 3, 4, 5]
    assert any("can no longer be resumed" in m for m in messages)
    assert s3.object("upload-2") == image_file.read_bytes()


def test_given_the_earlier_runs_upload_is_gone_when_run_again_then_a_fresh_upload_sends_everything(
    s3, image_file, tmp_path
):
    api, store = FakeApi(s3), StateStore(tmp_path / "state")
    s3.refuse = {3: (403, "AccessDenied")}
    with pytest.raises(UploadError):
        upload(image_file, api, store, image_fields={"name": "disk"})
    s3.refuse, s3.received, s3.gone = {}, [], {"upload-1"}  # e.g. someone asked for URLs again
    upload(image_file, api, store, image_fields={"name": "disk"})
    assert api.offers == ["upload-1", "upload-2"]
    assert s3.object("upload-2") == image_file.read_bytes() and api.completed == ["upload-2"]


def test_given_the_file_changed_since_the_earlier_run_then_its_record_is_not_trusted(s3, image_file, tmp_path):
    api, store = FakeApi(s3), StateStore(tmp_path / "state")
    s3.refuse = {5: (403, "AccessDenied")}
    with pytest.raises(UploadError):
        upload(image_file, api, store, image_id=api.create_image({})["id"])
    image_file.write_bytes(os.urandom(4 * PART + 123))
    s3.refuse, s3.received = {}, []
    upload(image_file, api, store, image_id="image-1")
    assert sorted(s3.received) == [1, 2, 3, 4, 5] and api.offers == ["upload-1", "upload-2"]
    assert s3.object("upload-2") == image_file.read_bytes()


def test_given_an_image_already_staged_then_nothing_is_sent_and_the_import_is_started(s3, image_file, tmp_path):
    api = FakeApi(s3)
    image_id = api.create_image({})["id"]
    api.images[image_id]["status"] = "uploading"

    def start_import(image_id):
        api.imports.append(image_id)
        api.images[image_id]["status"] = "active"

    api.start_import = start_import
    upload(image_file, api, StateStore(tmp_path / "state"), image_id=image_id)
    assert s3.received == [] and api.offers == [] and api.imports == [image_id]


def test_given_no_import_then_the_upload_is_asked_without_it_and_waits_only_for_staging(s3, image_file, tmp_path):
    api = FakeApi(s3)
    asked = []
    plain = api.upload_urls
    api.upload_urls = lambda image_id, size, start_import: asked.append(start_import) or plain(image_id, size, False)
    api.upload_complete = lambda image_id, upload_id: api.images[image_id].update(status="uploading")
    result, _ = upload(image_file, api, StateStore(tmp_path / "state"), image_fields={}, start_import=False)
    assert asked == [False] and result.image["status"] == "uploading" and api.imports == []


# ---------------------------------------------------------------- the state file
def test_the_state_file_is_private_and_only_trusted_for_the_same_bytes(tmp_path, image_file):
    endpoint, store = FakeApi.endpoint, StateStore(tmp_path / "state")
    file = FileIdentity.of(image_file)
    state = UploadState(endpoint, file, "image-1", "u", PART, True, time.time(), 900, {1: "http://x/1"}, {1: "e"})
    store.save(state)
    path = store.path_for(endpoint, file)
    assert path.stat().st_mode & 0o777 == 0o600  # it holds presigned URLs
    assert store.load(endpoint, file) == state
    assert store.load("http://other.example", file) is None
    assert store.load(endpoint, FileIdentity(file.path, file.size + 1, file.mtime_ns)) is None
    path.write_text("{not json")
    assert store.load(endpoint, file) is None  # a damaged record: start afresh


def test_urls_close_to_expiry_are_not_used():
    state = UploadState("e", FileIdentity("/f", 1, 1), "i", "u", PART, True, 1000.0, 900, {})
    assert state.urls_valid(now=1000.0 + 800) and not state.urls_valid(now=1000.0 + 850)


# ---------------------------------------------------------------- arguments, auth, output
def test_image_create_options_make_glances_create_body():
    args = parser().parse_args(
        ["--file", "f", "--name", "n", "--disk-format", "qcow2", "--container-format", "bare", "--min-disk", "2"]
        + [
            "--property",
            "os_distro=ubuntu",
            "--property",
            "note=a=b",
            "--tag",
            "x",
            "--tag",
            "y",
            "--protected",
            "True",
        ]
    )
    assert image_fields(args) == {
        "name": "n",
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk": 2,
        "os_distro": "ubuntu",
        "note": "a=b",
        "tags": ["x", "y"],
        "protected": True,
    }
    assert parser().parse_args(["--file", "f"]).parallel == 4


def test_a_property_without_equals_is_refused(capsys, image_file):
    with pytest.raises(SystemExit) as exit_:
        main(["--file", str(image_file), "--property", "novalue"], environ={})
    assert exit_.value.code == 2 and "KEY=VALUE" in capsys.readouterr().err


def test_image_id_with_create_options_is_refused(capsys, image_file):
    with pytest.raises(SystemExit):
        main(["--file", str(image_file), "--image-id", "x", "--name", "n"], environ={})
    assert "--image-id" in capsys.readouterr().err


def test_without_a_token_or_keystone_the_command_says_what_to_give(capsys, image_file):
    assert main(["--file", str(image_file), "--no-progress"], environ={}) == 1
    assert "OS_AUTH_TOKEN" in capsys.readouterr().err


def test_options_win_over_os_variables_and_the_endpoint_may_end_in_v2():
    args = parser().parse_args(["--file", "f", "--os-auth-token", "from-option"])
    environ = {"OS_AUTH_TOKEN": "from-env", "OS_IMAGE_URL": "http://glance:9292/v2/", "OS_USERNAME": "u"}
    given = credentials(args, environ)
    assert (given.auth_token, given.username) == ("from-option", "u")
    endpoint, token = token_source(given)
    assert endpoint == "http://glance:9292" and token() == "from-option"
    assert image_endpoint("https://api.example/image/v2.1") == "https://api.example/image"
    assert Credentials.from_environment({"OS_TOKEN": "t"}).auth_token == "t"  # the glance CLI's other name
    with pytest.raises(AuthError):
        token_source(Credentials(auth_token="t"))  # a token but no endpoint and no Keystone to ask


def test_keystone_credentials_give_a_session_token_and_the_catalogs_image_endpoint(monkeypatch):
    from keystoneauth1 import session

    monkeypatch.setattr(session.Session, "get_token", lambda self: "keystone-token")
    monkeypatch.setattr(session.Session, "get_endpoint", lambda self, **kw: "https://glance.example/v2" if kw else None)
    environ = {"OS_AUTH_URL": "https://keystone.example/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p"}
    endpoint, token = token_source(Credentials.from_environment(environ | {"OS_PROJECT_NAME": "p"}))
    assert endpoint == "https://glance.example" and token() == "keystone-token"


def test_the_image_prints_as_glance_image_show_does():
    table = image_table({"id": "abc", "name": "n", "tags": ["a", "b"], "self": "/v2/images/abc", "size": None})
    lines = table.splitlines()
    assert lines[1] == "| Property | Value |"
    rows = dict(tuple(c.strip() for c in line.strip("|").split("|")) for line in lines[3:-1])
    assert rows == {"id": "abc", "name": "n", "size": "", "tags": "a, b"}  # sorted, links left out
    assert len({len(line) for line in lines}) == 1


def test_glances_error_message_is_shown_not_its_json():
    assert error_message('{"message": "409 Conflict: not queued", "code": "409"}') == "409 Conflict: not queued"
    assert error_message('{"error": {"message": "nope"}}') == "nope"
    assert error_message("plain text") == "plain text"


def test_progress_off_a_terminal_is_one_line_per_tenth():
    out = io.StringIO()
    progress = Progress(100 * MiB, stream=out)
    for _ in range(100):
        progress.add(MiB)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and "100.0%" in lines[-1] and re.search(r"MiB/s", lines[0])

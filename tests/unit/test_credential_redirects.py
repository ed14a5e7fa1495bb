"""Credentials never follow a redirect to another origin (issue 21, low: tokens follow redirects).

Two real HTTP servers on loopback: ``origin`` answers what the test tells it (a 307 to ``elsewhere``,
another port, so another origin), ``elsewhere`` records every request it receives. Whatever the
client does with the redirect, ``elsewhere`` must never see a token or a password.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from image_import.identity.keystone import KeystoneUnavailable, KeystoneValidator, urllib_http
from image_import.quotas.keystone import KeystoneLimits, LimitsUnavailable
from image_import.settings import KeystoneSettings
from image_import.settings.oslo_limit import OsloLimitSettings

SECRETS = ("user-token", "service-token", "the-password")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Server:
    """A loopback HTTP server: ``answer(method, path, body)`` gives (status, headers, JSON body)."""

    answer: Callable[[str, str, str], tuple[int, dict[str, str], object]]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def serve(self) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
                status, headers, payload = server.answer(self.command, self.path, body)
                raw = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = handle_one

            def log_message(self, *args) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    def secrets_seen(self) -> list[str]:
        return [s for request in self.seen for s in SECRETS if s in json.dumps(request.headers) + request.body]


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    server = Server(lambda method, path, body: (401, {}, {"error": {"code": 401}}))
    httpd = server.serve()
    yield server
    httpd.shutdown()


@pytest.fixture
def origin(elsewhere: Server) -> Iterator[Server]:
    """Redirects every request (307) to the same path on ``elsewhere`` unless a test answers otherwise."""
    server = Server(lambda method, path, body: (307, {"Location": elsewhere.url + path}, None))
    httpd = server.serve()
    yield server
    httpd.shutdown()


# ---------------------------------------------------------------- what an origin is
@pytest.mark.parametrize(
    ("first", "then", "same"),
    [
        ("https://keystone.example:5000/v3", "https://keystone.example:5000/v3/auth/tokens", True),
        ("https://keystone.example/v3", "https://KEYSTONE.example:443/identity", True),  # default port, any case
        ("https://keystone.example/v3", "http://keystone.example/v3", False),  # a downgrade is another origin
        ("http://keystone.example/v3", "https://keystone.example/v3", False),
        ("http://127.0.0.1:5000/v3", "http://127.0.0.1:5001/v3", False),
        ("http://keystone.example/v3", "http://keystone.example.evil/v3", False),
        ("http://keystone.example/v3", "/v3/auth/tokens", True),  # a relative Location stays where it is
    ],
)
def test_an_origin_is_scheme_host_and_port(first, then, same):
    from image_import.identity.keystone import same_origin

    assert same_origin(first, then) is same


# ---------------------------------------------------------------- the service's Keystone calls
def test_given_keystone_redirecting_to_another_origin_when_validating_then_neither_token_is_sent_there(
    origin, elsewhere
):
    def keystone(method, path, body):
        if method == "POST":  # the service token is issued; the validation is redirected
            token = {"expires_at": "2099-01-01T00:00:00.000000Z", "user": {"id": "glance"}}
            return 201, {"X-Subject-Token": "service-token"}, {"token": token}
        return 307, {"Location": elsewhere.url + path}, None

    origin.answer = keystone
    validator = KeystoneValidator(KeystoneSettings(auth_url=origin.url + "/v3", username="glance", password="pw"))

    with pytest.raises(KeystoneUnavailable, match="307"):
        validator.validate("user-token")

    assert elsewhere.seen == []
    assert [r.method for r in origin.seen] == ["POST", "GET"]


def test_given_keystone_redirecting_the_password_to_another_origin_then_it_is_not_sent_there(origin, elsewhere):
    for status in (302, 303, 307, 308):
        origin.answer = lambda method, path, body, status=status: (status, {"Location": elsewhere.url + path}, None)
        validator = KeystoneValidator(
            KeystoneSettings(auth_url=origin.url + "/v3", username="glance", password="the-password")
        )
        with pytest.raises(KeystoneUnavailable):
            validator.validate("user-token")
    assert elsewhere.seen == []


def test_given_keystone_redirecting_a_limits_read_to_another_origin_then_the_token_is_not_sent_there(origin, elsewhere):
    def keystone(method, path, body):
        if method == "POST":
            return 201, {"X-Subject-Token": "service-token"}, {"token": {"expires_at": "2099-01-01T00:00:00Z"}}
        return 307, {"Location": elsewhere.url + path}, None

    origin.answer = keystone
    settings = OsloLimitSettings(
        auth_url=origin.url + "/v3", username="glance", password="pw", system_scope="all", endpoint_id="ep-1"
    )

    with pytest.raises(LimitsUnavailable):
        KeystoneLimits(settings).limits("p1")

    assert elsewhere.seen == []


def test_a_redirect_within_the_same_origin_is_followed_with_the_token(origin):
    def keystone(method, path, body):
        if path == "/old":
            return 307, {"Location": origin.url + "/new"}, None
        return 200, {}, {"ok": True}

    origin.answer = keystone
    reply = urllib_http(5.0)("GET", origin.url + "/old", {"X-Auth-Token": "service-token"}, None)

    assert reply.status == 200 and reply.body == {"ok": True}
    assert [(r.path, r.headers.get("X-Auth-Token")) for r in origin.seen] == [
        ("/old", "service-token"),
        ("/new", "service-token"),
    ]


# ---------------------------------------------------------------- glance-image-upload
def test_given_the_image_api_redirecting_to_another_origin_then_the_upload_command_drops_its_token(origin, elsewhere):
    from image_import_client.api import ApiError, ImageApi

    api = ImageApi(origin.url, lambda: "user-token")

    with pytest.raises(ApiError):
        api.create_image({"disk_format": "raw", "container_format": "bare"})

    assert [r.method for r in elsewhere.seen] == ["POST"]  # followed (a 307 keeps the method), without the token
    assert elsewhere.secrets_seen() == []
    assert origin.seen[0].headers.get("X-Auth-Token") == "user-token"


def test_given_keystone_redirecting_the_upload_commands_password_elsewhere_then_it_is_not_sent(origin, elsewhere):
    from image_import_client.api import AuthError, Credentials, token_source

    def keystone(method, path, body):
        if method == "GET":  # version discovery, as Keystone answers it; the password POST is redirected
            version = {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": origin.url + "/v3/"}]}
            return 200, {}, {"version": version}
        return 307, {"Location": elsewhere.url + path}, None

    origin.answer = keystone
    credentials = Credentials(
        auth_url=origin.url + "/v3",
        username="u",
        password="the-password",
        user_domain_name="Default",
        project_name="p",
        project_domain_name="Default",
        image_url="http://127.0.0.1:9/",
    )
    _, token = token_source(credentials)

    with pytest.raises(Exception) as refused:
        token()

    assert not isinstance(refused.value, AuthError | AssertionError)
    assert elsewhere.seen == []
    assert any(r.method == "POST" for r in origin.seen)

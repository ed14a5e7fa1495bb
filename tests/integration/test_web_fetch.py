"""The fetch adapter connects to the checked address, never to what the name resolves to now."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from image_import.adapters.web import WebFetcher
from image_import.policy.uri_filter import Target


class EchoHost(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = f"{self.headers['Host']} {self.path}".encode()
        self.send_response(302 if self.path == "/moved" else 200)
        self.send_header("Location", "http://elsewhere.example/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def port():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def target(port: int, path: str = "/disk.img?v=1") -> Target:
    # a name that resolves nowhere: reaching the server proves no DNS lookup happened
    return Target(f"http://images.invalid:{port}{path}", "http", "images.invalid", port, "127.0.0.1", path)


def test_given_a_checked_target_when_fetched_then_the_pinned_address_is_used_with_the_uris_host_header(port):
    response = WebFetcher(timeout=5).get(target(port))
    try:
        assert response.status == 200
        assert b"".join(response.chunks()) == f"images.invalid:{port} /disk.img?v=1".encode()
    finally:
        response.close()


def test_given_a_redirect_when_fetched_then_it_is_returned_not_followed(port):
    response = WebFetcher(timeout=5).get(target(port, "/moved"))
    try:
        assert response.status == 302
        assert response.header("Location") == "http://elsewhere.example/"
    finally:
        response.close()

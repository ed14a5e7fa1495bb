"""Shared test helpers (moved from tests/integration/test_web_download.py)."""

from __future__ import annotations

from tests.integration.conftest import QuietHandler


class Handler(QuietHandler):
    routes: dict[str, tuple[int, dict[str, str | None], bytes]] = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **headers}
        for name, value in headers.items():
            if value is not None:  # None: no such header (HTTP/1.0: the body ends when the connection closes)
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

"""Local web servers' request handlers for web-download tests: quiet, and one serving a table of routes."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (http.server writes every request to stderr)."""

    def log_message(self, *args):
        pass


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

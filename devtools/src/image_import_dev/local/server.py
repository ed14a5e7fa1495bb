"""The local service over HTTP: moto as a server inside this process, and a front door for the API.

Both live in one process on purpose: the in-process Lambda hook exists only in the process that
installed it, so a separate moto server would send Lambda invokes to moto's Docker path.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from image_import_dev.local.apigateway import gateway_response

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "content-length", "keep-alive", "transfer-encoding"}  # ours to set, not the handler's


@dataclass
class MotoServer:
    server: Any  # moto.server.ThreadedMotoServer
    endpoint_url: str
    port: int

    def stop(self) -> None:
        self.server.stop()


def start_moto_server(port: int = 0, *, region: str = "us-east-1") -> MotoServer:
    """moto on 127.0.0.1 in this process, and this process's boto3 pointed at it (dummy credentials).

    Call it before any boto3 client exists: a client keeps the endpoint and credentials it was made with.
    """
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    from image_import_dev.local import dynamodb_atomic, s3_streaming

    s3_streaming.install()  # objects of any size in bounded memory (moto holds whole objects otherwise)
    dynamodb_atomic.install()  # each DynamoDB request atomic, as DynamoDB's (moto's are not under threads)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call otherwise
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)  # logs every caught failure
    default_user_config["stepfunctions"] = {"execute_state_machine": True}  # same process: no config call needed
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    bound = server.get_host_and_port()[1]
    endpoint = f"http://127.0.0.1:{bound}"
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_") or k == "AWS_PROFILE"]:
        del os.environ[key]  # a per-service endpoint or a profile would lead somewhere else
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        MOTO_PORT=str(bound),  # moto's Step Functions interpreter calls SDK integrations on this port
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
    )
    return MotoServer(server, endpoint, bound)


class ApiServer(ThreadingHTTPServer):
    """The front door: each HTTP request becomes one ``stack.invoke_api`` call."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of clients beyond it is refused (connection reset),
    # where API Gateway would queue them
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], stack: Any, *, access_log: bool = False):
        self.stack, self.access_log = stack, access_log
        super().__init__(address, _FrontDoor)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve_api(stack: Any, host: str = "127.0.0.1", port: int = 9292, *, access_log: bool = False) -> ApiServer:
    """Serve ``stack``'s REST API on host:port (0: any free port) from a background thread."""
    server = ApiServer((host, port), stack, access_log=access_log)
    threading.Thread(target=server.serve_forever, args=(0.1,), name="api-front-door", daemon=True).start()
    return server


class _FrontDoor(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; so every response carries Content-Length
    server: ApiServer

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._write(gateway_response(400, "Malformed chunked request body", "BadRequestException"))
            return
        url = urlsplit(self.path)
        headers: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            if key.lower() != "transfer-encoding":  # the body arrives decoded
                headers.setdefault(key, []).append(value)
        # what API Gateway adds in front of every integration
        headers.setdefault("X-Forwarded-For", [self.client_address[0]])
        headers.setdefault("X-Forwarded-Proto", ["http"])
        headers.setdefault("X-Forwarded-Port", [str(self.server.server_address[1])])
        try:
            result = self.server.stack.invoke_api(
                self.command,
                url.path,
                headers=headers,
                query=parse_qs(url.query, keep_blank_values=True),
                body=body,
                source_ip=self.client_address[0],
            )
        except Exception:
            log.exception("%s %s failed in the local stack", self.command, url.path)
            result = gateway_response(500, "Internal server error", "InternalServerErrorException")
        self._write(result)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        # any other method (TRACE, QUERY, ...) goes to the API too, which answers it (405 with Allow):
        # http.server would answer 501 itself for a method it has no do_<METHOD> for
        if name.startswith("do_") and name[3:].isalpha():
            return self._handle
        raise AttributeError(name)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()  # python-glanceclient streams image data this way
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else None

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline(65537).split(b";", 1)[0].strip(), 16)  # ValueError if malformed
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3).strip():
                raise ValueError("chunk shorter than announced")
            parts.append(chunk)
        while self.rfile.readline(65537).strip():
            pass  # trailer fields, up to the blank line
        return b"".join(parts)

    def _write(self, result: dict[str, Any]) -> None:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        self.send_response(int(result["statusCode"]))
        multi = {k.lower(): (k, values) for k, values in (result.get("multiValueHeaders") or {}).items()}
        for key, value in (result.get("headers") or {}).items():
            if key.lower() not in multi and key.lower() not in HOP_BY_HOP:  # API Gateway: multiValueHeaders win
                self.send_header(key, str(value))
        for key, values in multi.values():
            if key.lower() not in HOP_BY_HOP:
                for value in values:
                    self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)

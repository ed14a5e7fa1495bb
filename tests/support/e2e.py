"""The end-to-end targets (the local stack in a subprocess, a deployed stack) and the glance CLI against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from image_import_dev.local.process import LocalStackProcess, start_local_stack

from tests.support.config import set_option
from tests.support.paths import ROOT


class ImageService:
    """The image API of one target, spoken to over HTTP; ``token`` is a member's (non-admin) token."""

    def __init__(
        self,
        kind: str,
        url: str,
        token: str,
        *,
        timeout: float,
        poll: float,
        stack: LocalStackProcess | None = None,
    ):
        self.kind, self.url, self.token = kind, url.rstrip("/"), token
        self.timeout, self.poll = timeout, poll  # how long an import may take, how often to look
        self.stack = stack  # the local stack's process; None for a deployed stack
        self.process, self.log = (stack.process, stack.log) if stack else (None, None)
        self.created: list[str] = []

    @property
    def local(self) -> bool:
        return self.kind == "local"

    def logs(self) -> str:
        """The local stack's output (for assertion messages); a deployed stack's is in CloudWatch."""
        return self.stack.logs() if self.stack else f"(see the stack's CloudWatch logs for {self.url})"

    def _open(self, method: str, path: str, token, body, headers) -> tuple[int, Message, bytes]:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        request = urllib.request.Request(self.url + path, data=data, method=method)
        token = self.token if token is ... else token
        if token:
            request.add_header("X-Auth-Token", token)
        if isinstance(body, (dict, list)):
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def request(self, method: str, path: str, token: str | None = ..., body=None, headers=None):
        """(status, headers, JSON body or text); ``token``: the member token unless given, None for none."""
        status, response_headers, raw = self._open(
            method, path, token, body, {"Accept": "application/json", **(headers or {})}
        )
        text = raw.decode()
        if status < 400:
            return status, response_headers, json.loads(text) if text else None
        return status, response_headers, json.loads(text) if text.startswith("{") else text

    def download(self, image_id: str, token: str | None = ...) -> tuple[int, Message, bytes]:
        """GET /file, following a redirect to S3 as clients do."""
        return self._open("GET", f"/v2/images/{image_id}/file", token, None, {"Accept": "application/octet-stream"})

    def create_image(self, token: str | None = ..., **fields) -> str:
        status, _, image = self.request(
            "POST", "/v2/images", token, {"disk_format": "raw", "container_format": "bare", **fields}
        )
        assert status == 201, image
        return self.track(image["id"])

    def track(self, image_id: str) -> str:
        """Remember an image to delete when the test ends (on a deployed stack)."""
        self.created.append(image_id)
        return image_id

    def delete_created(self) -> None:
        while self.created:
            self.request("DELETE", f"/v2/images/{self.created.pop()}")

    def wait_for_status(self, image_id: str, wanted: set[str], token=..., timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            status, _, image = self.request("GET", f"/v2/images/{image_id}", token)
            assert status == 200, image
            if image["status"] in wanted:
                return image
            if time.monotonic() > deadline:
                raise TimeoutError(f"image {image_id} still {image['status']}")
            time.sleep(self.poll)


def start_local_service(config_dir: Path, tmp_path: Path, env: dict[str, str] | None = None) -> ImageService:
    stack = start_local_stack(config_dir, log=tmp_path / "local-stack.log", env=env, cwd=ROOT)
    return ImageService("local", stack.url, "member-token", timeout=60, poll=0.1, stack=stack)


def stack_outputs(stack_name: str) -> dict[str, str]:
    import boto3

    try:
        [stack] = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:  # no credentials, no region, no such stack: say which
        pytest.fail(f"cannot read the outputs of stack {stack_name!r} ({STACK_VARIABLE}): {error}", pytrace=False)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def glance(service: ImageService, token: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the real python-glanceclient CLI against a service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "AWS_"))}
    env["HOME"] = str(tmp_path)  # glanceclient caches schemas under ~/.glanceclient
    command = [
        str(Path(sys.executable).with_name("glance")),
        "--os-image-url",
        service.url,
        "--os-auth-token",
        token,
        "--os-image-api-version",
        "2",
        *args,
    ]
    # stdin closed, as in a cron job: glanceclient would otherwise read image data from a non-tty stdin
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, preexec_fn=_close_stdin
    )


def glance_direct_import(
    service: ImageService, token: str, name: str, image_file: Path, tmp_path: Path
) -> subprocess.CompletedProcess:
    """``glance image-create-via-import`` of a raw/bare file by glance-direct, as a user types it."""
    return glance(
        service,
        token,
        "image-create-via-import",
        "--name", name,
        "--disk-format", "raw",
        "--container-format", "bare",
        "--import-method", "glance-direct",
        "--file", str(image_file),
        tmp_path=tmp_path,
    )  # fmt: skip


def _close_stdin() -> None:
    os.close(0)


def image_id_from(output: str) -> str:
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == "id":
            return cells[1]
    raise AssertionError(f"no id in glance output:\n{output}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving(path: Path, data: bytes) -> Iterator[int]:
    """Serve ``data`` as ``/<path.name>`` over HTTP on 127.0.0.1; yields the port."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(path.parent)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def allow_web_downloads_from_loopback(config_dir: Path, port: int, max_api_download_size: int) -> Path:
    """The filter refuses loopback and odd ports by default: open exactly the test server."""
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[127.0.0.0/8]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", f"[80, 443, {port}]")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "max_api_download_size", str(max_api_download_size))
    return config_dir


STACK_VARIABLE = "AWS_SAM_STACK_NAME"

"""The local stack as a user runs it (`python -m image_import.local`), in a subprocess, over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

READY = "Image API ready at "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalService:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url, self.process, self.log = url, process, log

    def request(self, method: str, path: str, token: str | None = "member-token", body=None, headers=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("X-Auth-Token", token)
        if isinstance(body, (dict, list)):
            request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, dict(response.headers), json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, dict(error.headers), json.loads(text) if text.startswith("{") else text

    def wait_for_status(self, image_id: str, wanted: set[str], token="member-token", timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, _, image = self.request("GET", f"/v2/images/{image_id}", token)
            assert status == 200, image
            if image["status"] in wanted:
                return image
            if time.monotonic() > deadline:
                raise TimeoutError(f"image {image_id} still {image['status']}")
            time.sleep(0.1)


def start_local_service(config_dir: Path, tmp_path: Path) -> LocalService:
    port = free_port()
    log = tmp_path / "local-stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(port), IMAGE_IMPORT_CONFIG_DIR=str(config_dir), PYTHONUNBUFFERED="1")
    out = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "image_import.local"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while READY not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"local stack did not start:\n{log.read_text()}")
        time.sleep(0.1)
    url = log.read_text().split(READY, 1)[1].split()[0]
    return LocalService(url, process, log)


@pytest.fixture
def service_config(config_dir: Path) -> Path:
    return config_dir


@pytest.fixture
def service(service_config: Path, tmp_path: Path):
    running = start_local_service(service_config, tmp_path)
    try:
        yield running
    finally:
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()

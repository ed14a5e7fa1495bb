"""End to end, local stack only: what needs an admin token, chunked bodies, or the stack's start-up.

The import scenario itself runs against every target in test_import_scenario.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from image_import_dev.local.process import free_port

from tests.support.config import set_option
from tests.support.e2e import glance, image_id_from
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e


def test_an_admins_import_gets_no_injected_property(service, tmp_path):
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(b"admin image")
    result = glance(
        service,
        "admin-token",
        "image-create-via-import",
        "--disk-format", "raw",
        "--container-format", "bare",
        "--file", str(image_file),
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = service.wait_for_status(image_id_from(result.stdout), {"active"}, token="admin-token")
    assert "property1" not in image


def test_stage_then_import_over_http_with_a_chunked_body(service):
    import http.client
    from urllib.parse import urlsplit

    status, _, image = service.request("POST", "/v2/images", body={"disk_format": "raw", "container_format": "bare"})
    assert status == 201
    url = urlsplit(service.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    chunks = [os.urandom(65536) for _ in range(20)]
    connection.request(
        "PUT",
        f"/v2/images/{image['id']}/stage",
        body=iter(chunks),
        headers={"X-Auth-Token": "member-token", "Content-Type": "application/octet-stream"},
        encode_chunked=True,
    )
    assert connection.getresponse().status == 204
    status, _, _ = service.request(
        "POST", f"/v2/images/{image['id']}/import", body={"method": {"name": "glance-direct"}}
    )
    assert status == 202
    active = service.wait_for_status(image["id"], {"active"})
    assert active["checksum"] == hashlib.md5(b"".join(chunks)).hexdigest()


def test_a_malformed_config_file_stops_startup_naming_the_file_and_line(config_dir, tmp_path):
    (config_dir / "glance-image-import.conf").write_text("[image_import_opts]\nimage_import_plugins = [no_op\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(free_port()), IMAGE_IMPORT_CONFIG_DIR=str(config_dir))
    result = subprocess.run(
        [sys.executable, "-m", "image_import_dev.local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{config_dir / 'glance-image-import.conf'}:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_plugin_stops_startup(config_dir):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[no_op, nope]")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(free_port()), IMAGE_IMPORT_CONFIG_DIR=str(config_dir))
    result = subprocess.run(
        [sys.executable, "-m", "image_import_dev.local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "unknown import plugin 'nope'" in result.stderr

"""End to end: the local stack over HTTP, driven by python-glanceclient and by plain requests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, set_option
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e


def glance(service, token: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the real python-glanceclient CLI against the local stack."""
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
        command, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, preexec_fn=_close_stdin
    )


def _close_stdin() -> None:
    os.close(0)


def image_id_from(output: str) -> str:
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == "id":
            return cells[1]
    raise AssertionError(f"no id in glance output:\n{output}")


def test_glanceclient_image_create_via_import_ends_active_with_the_files_hashes(service, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 123)
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(data)
    result = glance(
        service,
        "member-token",
        "image-create-via-import",
        "--name", "e2e",
        "--disk-format", "raw",
        "--container-format", "bare",
        "--import-method", "glance-direct",
        "--file", str(image_file),
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout + service.log.read_text()
    image = service.wait_for_status(image_id_from(result.stdout), {"active", "uploading", "queued"})
    assert image["status"] == "active", image
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image["size"] == len(data)
    assert image["property1"] == "value1"  # a member's import gets the injected property


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


def test_glanceclient_import_info_and_image_tasks(service, tmp_path):
    info = glance(service, "member-token", "import-info", tmp_path=tmp_path)
    assert info.returncode == 0, info.stderr
    cells = "".join(line.strip().strip("|").split("|")[-1].strip() for line in info.stdout.splitlines())
    assert '"value": ["glance-direct", "web-download"]' in cells  # glanceclient wraps the table cell across lines
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(b"x" * 1000)
    created = glance(
        service, "member-token", "image-create-via-import", "--disk-format", "raw", "--container-format", "bare",
        "--file", str(image_file), tmp_path=tmp_path,
    )  # fmt: skip
    image_id = image_id_from(created.stdout)
    service.wait_for_status(image_id, {"active"})
    tasks = glance(service, "member-token", "image-tasks", image_id, tmp_path=tmp_path)
    assert tasks.returncode == 0, tasks.stderr
    assert "success" in tasks.stdout


def test_glanceclient_shows_glances_error_for_an_unknown_image(service, tmp_path):
    result = glance(service, "member-token", "image-show", "00000000-0000-0000-0000-000000000000", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "No image found with ID" in result.stderr


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


def test_versions_are_open_and_images_need_a_token(service):
    assert service.request("GET", "/versions", token=None)[0] == 200
    assert service.request("GET", "/v2/images", token=None)[0] == 401


def test_a_malformed_config_file_stops_startup_naming_the_file_and_line(config_dir, tmp_path):
    (config_dir / "glance-image-import.conf").write_text("[image_import_opts]\nimage_import_plugins = [no_op\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(free_port()), IMAGE_IMPORT_CONFIG_DIR=str(config_dir))
    result = subprocess.run(
        [sys.executable, "-m", "image_import.local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{config_dir / 'glance-image-import.conf'}:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_plugin_stops_startup(config_dir):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[no_op, nope]")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(free_port()), IMAGE_IMPORT_CONFIG_DIR=str(config_dir))
    result = subprocess.run(
        [sys.executable, "-m", "image_import.local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "unknown import plugin 'nope'" in result.stderr

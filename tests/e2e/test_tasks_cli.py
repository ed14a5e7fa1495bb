"""End to end with python-glanceclient: ``glance task-create`` (Glance's legacy import task) from a
server on 127.0.0.1, then task-show, task-list and the image it made."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from tests.support.e2e import allow_web_downloads_from_loopback, glance, image_id_from

pytestmark = pytest.mark.e2e


@pytest.fixture
def service_config(config_dir, web_root):
    return allow_web_downloads_from_loopback(config_dir, web_root, max_api_download_size=1_000_000)


def fields_of(output: str) -> dict[str, str]:
    """glanceclient's two-column table (Property | Value) as a dict."""
    fields = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("Property", ""):
            fields[cells[0]] = cells[1]
    return fields


def test_glanceclient_task_create_imports_an_image_that_task_show_names_and_refuses_a_filtered_uri(
    service, web_root, web_data, tmp_path
):
    task_input = {
        "import_from": f"http://127.0.0.1:{web_root}/disk.img",
        "import_from_format": "raw",
        "image_properties": {"name": "from-a-task", "disk_format": "raw", "container_format": "bare"},
    }
    created = glance(
        service, "admin-token", "task-create", "--type", "import", "--input", json.dumps(task_input), tmp_path=tmp_path
    )
    assert created.returncode == 0, created.stderr
    task_id = image_id_from(created.stdout)
    assert fields_of(created.stdout)["status"] == "pending"

    deadline = time.monotonic() + service.timeout
    while (shown := fields_of(glance(service, "admin-token", "task-show", task_id, tmp_path=tmp_path).stdout))[
        "status"
    ] in ("pending", "processing"):
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    assert shown["status"] == "success", shown.get("message")
    image_id = json.loads(shown["result"])["image_id"]
    image = service.request("GET", f"/v2/images/{image_id}", "admin-token")[2]
    assert image["status"] == "active" and image["name"] == "from-a-task"
    assert image["os_hash_value"] == hashlib.sha512(web_data).hexdigest()

    listed = glance(service, "admin-token", "task-list", "--type", "import", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert task_id in listed.stdout

    refused_input = {**task_input, "import_from": "http://169.254.169.254/latest/"}
    refused = glance(
        service,
        "admin-token",
        "task-create",
        "--type",
        "import",
        "--input",
        json.dumps(refused_input),
        tmp_path=tmp_path,
    )
    assert refused.returncode != 0
    assert "URI for legacy import task does not pass filtering: http://169.254.169.254/latest/" in refused.stderr

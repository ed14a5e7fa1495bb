"""POST /v2/tasks (Glance's legacy 'import' task) end to end in the moto stack, fetching from a local
HTTP server on 127.0.0.1 (the filter is opened for loopback and its port only); task expiry."""

from __future__ import annotations

import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import set_option
from tests.integration.conftest import bucket_keys, wait_for_executions

DATA = b"QFI\xfb" + (3).to_bytes(4, "big") + bytes(96) + os.urandom(100_000)  # a qcow2 v3 header


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        found = self.path == "/disk.qcow2"
        body = DATA if found else b"not here"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def stack_config(config_dir, server):
    port = server.server_address[1]
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[127.0.0.0/8]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", f"[80, 443, {port}]")
    return config_dir


def legacy_task(uri: str, **properties) -> dict:
    image_properties = {"name": "from-task", "disk_format": "qcow2", "container_format": "bare", **properties}
    return {
        "type": "import",
        "input": {"import_from": uri, "import_from_format": "qcow2", "image_properties": image_properties},
    }


def test_an_import_task_answers_201_as_glance_and_imports_the_image_with_its_properties(admin, stack, base):
    body = legacy_task(f"{base}/disk.qcow2", visibility="public", hw_disk_bus="scsi")
    reply = admin.call("POST", "/v2/tasks", body)
    assert reply.status == 201, reply.text
    created = reply.json
    assert reply.headers["location"] == f"http://127.0.0.1:9292/v2/tasks/{created['id']}"
    # Glance's keys in Glance's order: no image_id (its row has none), no expires_at while running
    assert list(created) == [
        "id", "input", "type", "status", "owner", "message", "result", "created_at", "updated_at",
        "self", "schema", "request_id", "user_id",
    ]  # fmt: skip
    assert created["status"] == "pending" and created["result"] is None and created["message"] == ""
    assert created["input"] == body["input"] and created["type"] == "import" and created["owner"] == "admin"
    assert created["request_id"] == reply.headers["x-openstack-request-id"]

    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED"
    task = admin.call("GET", f"/v2/tasks/{created['id']}").json
    assert task["status"] == "success", task["message"]
    assert set(task["result"]) == {"image_id"} and "expires_at" in task
    image = admin.show(task["result"]["image_id"])
    assert image["status"] == "active" and image["name"] == "from-task" and image["visibility"] == "public"
    assert image["disk_format"] == "qcow2" and image["hw_disk_bus"] == "scsi" and image["owner"] == "admin"
    assert image["size"] == len(DATA) and image["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert bucket_keys(stack, "StoreBucket") == [f"images/{image['id']}"]
    assert bucket_keys(stack, "StagingBucket") == []

"""The whole stack from template.yaml in moto (decorator mode), handlers run in-process.

Tests drive it through the API Gateway emulation (authorizer included), as a client would,
and inspect S3/DynamoDB/Step Functions directly to check what was (not) written.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

MEMBER = "member-token"
ADMIN = "admin-token"


def reset_process_caches() -> None:
    """Settings, resource names, ports, boto3 clients, policy, identity and plugins are cached per process."""
    from image_import import composition

    composition.reset()


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


@pytest.fixture
def stack_config(config_dir: Path) -> Path:
    """The configuration the stack starts with; tests edit it (via config_dir) before `stack` starts."""
    return config_dir


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    """Template parameter values, as `sam deploy --parameter-overrides` gives them (none: defaults)."""
    return {}


@pytest.fixture
def stack_events_file() -> Path | None:
    """Where the stack writes its bus's events, one JSON per line (None: not written)."""
    return None


@pytest.fixture
def stack_large_requests() -> bool:
    """Whether the stack serves requests over Lambda's 6 MB (with a warning) rather than refusing them with
    413 as AWS does: for tests whose subject needs big images staged through the API (passes, faults)."""
    return False


@pytest.fixture
def stack(
    aws_env,
    stack_config: Path,
    stack_parameters: dict[str, str],
    stack_events_file: Path | None,
    stack_large_requests: bool,
):
    from moto import mock_aws

    from tests.support.stacks import prepared_stack, shared_boto3_session

    saved_env = dict(os.environ)
    reset_process_caches()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), shared_boto3_session():
        local = prepared_stack(
            stack_config,
            parameters=stack_parameters,
            events_file=stack_events_file,
            large_requests=stack_large_requests,
        )
        local.up()
        try:
            yield local
            wait_for_executions(local)  # never leave moto while an execution still runs
        finally:
            local.down()
            os.environ.clear()
            os.environ.update(saved_env)
            reset_process_caches()


def wait_for_executions(stack, timeout: float = 60.0) -> list[dict]:
    import boto3

    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["ImportStateMachineArn"]
    results = []
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        results.append(stack.wait(execution["executionArn"], timeout))
    return results


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """A tiny client of the emulated API Gateway, acting as one user."""

    def __init__(self, stack, token: str | None):
        self.stack, self.token = stack, token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, query=None
    ) -> Reply:
        all_headers = {"Host": "127.0.0.1:9292", "Accept": "application/json"}
        if self.token:
            all_headers["X-Auth-Token"] = self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        all_headers.update(headers or {})
        result = self.stack.invoke_api(method, path, headers=all_headers, query=query, body=body)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            text = base64.b64decode(text).decode()
        response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response_headers.setdefault(key.lower(), values[-1])
        return Reply(result["statusCode"], response_headers, text)

    def create(self, **fields) -> dict:
        body = {"disk_format": "raw", "container_format": "bare", "name": "test", **fields}
        reply = self.call("POST", "/v2/images", body)
        assert reply.status == 201, reply.text
        return reply.json

    def stage(self, image_id: str, data: bytes) -> Reply:
        return self.call("PUT", f"/v2/images/{image_id}/stage", data, {"Content-Type": "application/octet-stream"})

    def import_(self, image_id: str, method: str = "glance-direct") -> Reply:
        return self.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": method}})

    def show(self, image_id: str) -> dict:
        reply = self.call("GET", f"/v2/images/{image_id}")
        assert reply.status == 200, reply.text
        return reply.json


@pytest.fixture
def member(stack) -> Api:
    return Api(stack, MEMBER)


@pytest.fixture
def admin(stack) -> Api:
    return Api(stack, ADMIN)


@pytest.fixture
def anonymous(stack) -> Api:
    return Api(stack, None)


def bucket_keys(stack, logical_id: str) -> list[str]:
    import boto3

    name = stack.physical_name(logical_id)
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=name).get("Contents", [])]


S3_WRITES = ("PutObject", "CreateMultipartUpload", "UploadPart", "CopyObject", "UploadPartCopy")


@pytest.fixture
def s3_writes(stack) -> list[tuple[str, str, str]]:
    """Every object write the handlers of this process start, as (operation, bucket, key): what was ever
    written, even if a handler deleted it again before it answered."""
    from image_import.adapters import aws

    writes: list[tuple[str, str, str]] = []

    def record(params, model, **_):
        writes.append((model.name, params.get("Bucket"), params.get("Key")))

    events = aws.client("s3").meta.events  # the client every handler in this process uses
    for operation in S3_WRITES:
        events.register(f"provide-client-params.s3.{operation}", record)
    yield writes
    for operation in S3_WRITES:
        events.unregister(f"provide-client-params.s3.{operation}", record)


# ---------------------------------------------------------------- a local web server for web-download


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (http.server writes every request to stderr)."""

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web_server(web_handler):
    """A server on 127.0.0.1 (a free port) running the module's `web_handler` fixture: a request handler class."""
    import threading
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), web_handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def web_base(web_server) -> str:
    return f"http://127.0.0.1:{web_server.server_address[1]}"


@pytest.fixture
def web_server_config(config_dir: Path, web_server) -> Path:
    """The configuration with the URI filter opened for loopback and the web server's port only (the rest as
    shipped), so a test reaches nothing but 127.0.0.1; a module's `stack_config` starts from it."""
    from tests.conftest import set_option

    port = web_server.server_address[1]
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[127.0.0.0/8]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", f"[80, 443, {port}]")
    return config_dir

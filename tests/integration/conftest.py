"""The whole stack from template.yaml in moto (decorator mode), handlers run in-process.

Tests drive it through the API Gateway emulation (authorizer included), as a client would,
and inspect S3/DynamoDB/Step Functions directly to check what was (not) written.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.support.api import ADMIN, MEMBER, Api, Reply  # noqa: F401  (re-exported for tests that still import it from here)
from tests.support.stack_state import bucket_keys, reset_process_caches, wait_for_executions  # noqa: F401  (re-exported for tests that still import it from here)
from tests.support.web import QuietHandler  # noqa: F401  (re-exported for tests that still import it from here)


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

    from tests.support.stacks import prepared_stack

    saved_env = dict(os.environ)
    reset_process_caches()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
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


@pytest.fixture
def member(stack) -> Api:
    return Api(stack, MEMBER)


@pytest.fixture
def admin(stack) -> Api:
    return Api(stack, ADMIN)


@pytest.fixture
def anonymous(stack) -> Api:
    return Api(stack, None)


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
    from tests.support.config import set_option

    port = web_server.server_address[1]
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[127.0.0.0/8]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", f"[80, 443, {port}]")
    return config_dir

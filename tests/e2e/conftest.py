"""End to end over HTTP, against the local stack or a deployed one.

``service``: the local stack as a user runs it (`python -m image_import_dev.local`), in a subprocess.
``target``: the same scenario against each target in turn: ``local`` (that subprocess, always) and
``deployed`` (a stack on AWS, skipped unless ``AWS_SAM_STACK_NAME`` names one)::

    AWS_SAM_STACK_NAME=image-import IMAGE_IMPORT_TOKEN=<a member token> .venv/bin/python -m pytest tests/e2e

The deployed target reads the stack's output ``ImageApiUrl`` with your AWS credentials (boto3's usual
chain, region from AWS_REGION / AWS_DEFAULT_REGION / the profile), then talks to the API over HTTPS like
any client, with the token in ``IMAGE_IMPORT_TOKEN``: a non-admin token of the stack's identity backend
(dynamodb: ``python -m image_import_dev.tokens --table <TokensTableName> issue --user e2e --project e2e
--roles member,reader``). Every image a test creates there is deleted when the test ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_import_dev.local.process import free_port

from tests.support.config import set_option  # noqa: F401  (re-exported for tests that still import it from here)
from tests.support.e2e import (  # noqa: F401  (re-exported for tests that still import them from here)
    STACK_VARIABLE,
    ImageService,
    allow_web_downloads_from_loopback,
    glance,
    glance_direct_import,
    image_id_from,
    serving,
    stack_outputs,
    start_local_service,
)
from tests.support.paths import ROOT  # noqa: F401  (re-exported for tests that still import it from here)

__all__ = ["free_port"]  # re-exported: tests here that start the stack their own way take a port from it
TOKEN_VARIABLE = "IMAGE_IMPORT_TOKEN"
TARGETS = ("local", "deployed")


@pytest.fixture
def service_config(config_dir: Path) -> Path:
    return config_dir


@pytest.fixture
def service(service_config: Path, tmp_path: Path):
    """The local stack only (tests that reach into it or reconfigure it)."""
    running = start_local_service(service_config, tmp_path)
    try:
        yield running
    finally:
        running.stack.stop()


@pytest.fixture(scope="session")
def deployed_service() -> ImageService:
    stack_name = os.environ.get(STACK_VARIABLE)
    if not stack_name:
        pytest.skip(f"deployed stack: set {STACK_VARIABLE} (and {TOKEN_VARIABLE}) to run against one")
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        pytest.skip(
            f"deployed stack {stack_name}: set {TOKEN_VARIABLE} to a member (non-admin) token of its identity backend"
        )
    outputs = stack_outputs(stack_name)
    if "ImageApiUrl" not in outputs:
        pytest.fail(f"stack {stack_name!r} has no output ImageApiUrl (outputs: {sorted(outputs)})", pytrace=False)
    # Lambda cold starts and Step Functions: an import takes seconds, not the local stack's fraction of one
    return ImageService("deployed", outputs["ImageApiUrl"], token, timeout=300, poll=2)


@pytest.fixture(params=TARGETS)
def target(request) -> ImageService:
    """The scenario's service: the local stack, then the deployed stack (if one is named)."""
    if request.param == "local":
        yield request.getfixturevalue("service")
        return
    deployed = request.getfixturevalue("deployed_service")
    try:
        yield deployed
    finally:
        deployed.delete_created()


# ---------------------------------------------------------------- a web server for web-download


@pytest.fixture
def web_data() -> bytes:
    """The bytes `web_root` serves as /disk.img."""
    return os.urandom(100_000)


@pytest.fixture
def web_root(tmp_path: Path, web_data: bytes) -> Iterator[int]:
    """An HTTP server on 127.0.0.1 serving `web_data` as /disk.img; yields its port (for the module's
    `service_config` to open the filter to, with allow_web_downloads_from_loopback)."""
    with serving(tmp_path / "www" / "disk.img", web_data) as port:
        yield port

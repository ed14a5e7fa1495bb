"""Fixtures for the local stack's own tests: dummy AWS, moto in decorator mode, the fixture SAM app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.local_stack import FIXTURES, TEMPLATE, invoke_hooks  # noqa: F401  (re-exported)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Dummy credentials and no endpoint or profile: nothing here may reach real AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "MOTO_PORT"):
        monkeypatch.delenv(key, raising=False)
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


@pytest.fixture(autouse=True)
def no_hook_left_behind() -> Iterator[None]:
    """Every test leaves botocore as it found it: a stale hook would answer the next test's invokes."""
    before = len(invoke_hooks())
    yield
    assert len(invoke_hooks()) == before, "a Lambda invoke hook was left installed"


@pytest.fixture
def moto() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def make_stack(moto) -> Iterator[Callable[..., object]]:
    """Build and start the fixture stack (or another template); everything is taken down afterwards."""
    from image_import_dev.local.stack import LocalStack

    started: list[LocalStack] = []

    def make(template: Path = TEMPLATE, **options) -> LocalStack:
        stack = LocalStack(template, name=options.pop("name", "t"), **options)
        started.append(stack)
        return stack.up()

    yield make
    import boto3

    sfn = boto3.client("stepfunctions")
    for stack in started:
        if stack.runtime.installed:  # up() succeeded and the test did not take it down itself
            for arn in stack.state_machines.values():
                for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
                    stack.wait(execution["executionArn"])  # never leave moto with an execution running
        stack.down()


@pytest.fixture
def stack(make_stack):
    return make_stack()


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[object]:
    """One fixture stack for a module of tests that only send requests (they change nothing)."""
    from image_import_dev.local.stack import LocalStack
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            patch.setenv(key, value)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "MOTO_PORT"):
            patch.delenv(key, raising=False)
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            stack = LocalStack(TEMPLATE, name="t").up()
            try:
                yield stack
            finally:
                stack.down()

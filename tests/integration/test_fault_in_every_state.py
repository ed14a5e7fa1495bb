"""A failure injected into every state of the chain in turn, before and after the state does its work.

Whatever fails, once: the image is back where a retry starts (``uploading`` with its staged data for
glance-direct, ``queued`` for web-download), or, when the failure came after the image became
``active``, stays active with its task a success; the task says why; no object is left that no image
needs (tests/support/consistency.py); and the retry succeeds.

The fault is a handler that raises ``InjectedFault`` on its first invocation ("before": instead of
the step; "after": once the step has done all its work, as a function that dies before it returns).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta

import boto3
import pytest
from image_import_dev.render import plugin_function_id

from image_import.settings import load_settings
from image_import.steps.chain import CLEANUP_STATES, WEB_DOWNLOAD_STATE, chain_of
from tests.support.consistency import assert_consistent, keys
from tests.support.paths import ROOT
from tests.support.stack_state import wait_for_executions
from tests.support.web import Handler

PLUGINS = load_settings(ROOT / "config").image_import_plugins
DATA = os.urandom(100_000)
WHEN = ("before", "after")


class InjectedFault(Exception):
    pass


def function_id(state: str) -> str:
    if state.startswith("Plugin-"):
        return plugin_function_id(state.removeprefix("Plugin-"))
    return f"{state}Function"


def inject_fault(stack, state: str, when: str) -> None:
    """The function behind ``state`` fails its next invocation, ``when`` it would have done its work."""
    runtime = stack.runtime
    name = stack.physical_name(function_id(state))
    original = runtime._handler(runtime.functions[name])
    armed = [True]

    def faulty(event, context):
        if not armed[0]:
            return original(event, context)
        armed[0] = False
        if when == "after":
            original(event, context)
        raise InjectedFault(f"injected fault {when} {state}")

    runtime._handlers[name] = faulty


def task_of(api, image_id: str) -> dict:
    tasks = api.call("GET", f"/v2/images/{image_id}/tasks").json["tasks"]
    return tasks[0]


def sweep_later(stack) -> None:
    """The scheduled sweeper, run as if its grace period had passed."""
    from image_import.adapters.ports import default_ports
    from image_import.settings import get_settings
    from image_import.workflow.sweeper import SweepLimits, sweep

    sweep(default_ports(), get_settings(), limits=SweepLimits(grace=timedelta(0), upload_age=timedelta(0)))


def completed(state: str, when: str) -> bool:
    """Did the image become active before the fault? CompleteImport's work, then every cleanup state."""
    return state in CLEANUP_STATES or (state == "CompleteImport" and when == "after")


GLANCE_DIRECT = [(s.state, w) for s in chain_of(tuple(PLUGINS)).for_method("glance-direct") for w in WHEN]
WEB_DOWNLOAD = [(s.state, w) for s in chain_of(tuple(PLUGINS)).for_method("web-download") for w in WHEN]


def test_every_state_of_both_chains_is_covered():
    assert {s for s, _ in WEB_DOWNLOAD} == {WEB_DOWNLOAD_STATE, *(s for s, _ in GLANCE_DIRECT)}
    assert any(s.startswith("Plugin-") for s, _ in GLANCE_DIRECT)


@pytest.mark.parametrize(("state", "when"), GLANCE_DIRECT)
def test_glance_direct_survives_a_fault(member, stack, state, when):
    image = member.create()
    assert member.stage(image["id"], DATA).status == 204
    inject_fault(stack, state, when)
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)
    shown, task = member.show(image["id"]), task_of(member, image["id"])

    if completed(state, when):
        # the image is active: nothing is reverted; staging residue is the sweeper's
        assert shown["status"] == "active", shown
        assert task["status"] == "success", task
        sweep_later(stack)
    else:
        assert shown["status"] == "uploading", shown
        assert shown["checksum"] is None and "os_glance_import_task" not in shown
        assert task["status"] == "failure" and f"injected fault {when} {state}" in task["message"], task
        assert keys(stack, "StagingBucket") == {f"staging/{image['id']}"}  # the data a retry uses
        assert_consistent(stack)
        assert member.import_(image["id"]).status == 202  # the retry
        wait_for_executions(stack)
        shown = member.show(image["id"])
        assert shown["status"] == "active", shown
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert_consistent(stack)


@pytest.fixture(scope="module")
def web_handler():
    return Handler


class TestWebDownload:
    @pytest.fixture
    def stack_config(self, web_server_config):
        return web_server_config

    @pytest.fixture
    def uri(self, web_base) -> str:
        Handler.routes = {"/disk.img": (200, {}, DATA)}
        return f"{web_base}/disk.img"

    def web_import(self, member, image_id, uri) -> int:
        body = {"method": {"name": "web-download", "uri": uri}}
        return member.call("POST", f"/v2/images/{image_id}/import", body).status

    @pytest.mark.parametrize(("state", "when"), WEB_DOWNLOAD)
    def test_web_download_survives_a_fault(self, member, stack, uri, state, when):
        image = member.create()
        inject_fault(stack, state, when)
        assert self.web_import(member, image["id"], uri) == 202
        wait_for_executions(stack)
        shown, task = member.show(image["id"]), task_of(member, image["id"])

        if completed(state, when):
            assert shown["status"] == "active", shown
            assert task["status"] == "success", task
            sweep_later(stack)
        else:
            assert shown["status"] == "queued", shown
            assert shown["size"] is None and shown["checksum"] is None
            assert task["status"] == "failure" and f"injected fault {when} {state}" in task["message"], task
            assert_consistent(stack)
            assert self.web_import(member, image["id"], uri) == 202  # the retry downloads again
            wait_for_executions(stack)
            shown = member.show(image["id"])
            assert shown["status"] == "active", shown
        assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
        assert_consistent(stack)


def test_a_failed_cleanup_does_not_fail_the_execution(member, stack):
    """Once the image is active, a failure to delete staging ends the execution as a success."""
    image = member.create()
    member.stage(image["id"], DATA)
    inject_fault(stack, CLEANUP_STATES[0], "before")
    member.import_(image["id"])
    [execution] = wait_for_executions(stack)
    assert execution["status"] == "SUCCEEDED", json.dumps(execution, default=str)
    sfn = boto3.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert "RevertImport" not in entered

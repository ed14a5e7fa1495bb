"""The in-process Lambda runtime: boto3 invokes run real handlers in this process."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from image_import_dev.local.runtime import LambdaContext, LambdaRuntime, LocalFunction

from tests.local.conftest import invoke_hooks


def write_handler(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source)
    return folder


@pytest.fixture
def runtime():
    runtime = LambdaRuntime()
    yield runtime
    runtime.uninstall()


def add(runtime: LambdaRuntime, tmp_path: Path, name: str, source: str) -> None:
    runtime.add(LocalFunction(name, write_handler(tmp_path / name, source)))


def invoke(name: str, payload: object = None, **options) -> dict:
    client = boto3.client("lambda", region_name="us-east-1")
    return client.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **options)


ECHO = "def handler(event, context):\n    return {'got': event, 'name': context.function_name}\n"


def test_given_an_installed_runtime_when_boto3_invokes_a_function_then_its_handler_runs_in_process(runtime, tmp_path):
    add(runtime, tmp_path, "echo", ECHO)
    runtime.install()

    response = invoke("echo", {"x": 1})

    assert response["StatusCode"] == 200
    assert json.load(response["Payload"]) == {"got": {"x": 1}, "name": "echo"}


def test_given_an_installed_runtime_when_invoked_by_arn_then_the_function_is_found(runtime, tmp_path):
    add(runtime, tmp_path, "echo", ECHO)
    runtime.install()

    response = invoke(runtime.arn("echo"), {"x": 2})

    assert json.load(response["Payload"])["got"] == {"x": 2}


def test_given_a_raising_handler_when_invoked_then_the_envelope_names_the_exception_class(runtime, tmp_path):
    add(
        runtime,
        tmp_path,
        "bad",
        "class ImageRejected(Exception):\n    pass\n\ndef handler(e, c):\n    raise ImageRejected('no')\n",
    )
    runtime.install()

    response = invoke("bad")

    envelope = json.load(response["Payload"])
    assert response["FunctionError"] == "Unhandled"
    assert (envelope["errorType"], envelope["errorMessage"]) == ("ImageRejected", "no")
    assert any("raise ImageRejected" in line for line in envelope["stackTrace"])


def test_given_a_missing_handler_module_when_invoked_then_lambda_reports_an_import_module_error(runtime, tmp_path):
    runtime.add(LocalFunction("ghost", tmp_path / "nowhere"))
    runtime.install()

    envelope = json.load(invoke("ghost")["Payload"])

    assert envelope["errorType"] == "Runtime.ImportModuleError"


def test_given_a_payload_that_is_not_json_when_invoked_then_lambda_rejects_the_request(runtime, tmp_path):
    add(runtime, tmp_path, "echo", ECHO)
    runtime.install()

    with pytest.raises(ClientError) as raised:
        boto3.client("lambda", region_name="us-east-1").invoke(FunctionName="echo", Payload=b"{not json")

    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_given_an_event_invocation_when_invoked_then_it_returns_202_and_runs_in_the_background(runtime, tmp_path):
    marker = tmp_path / "ran"
    add(
        runtime,
        tmp_path,
        "later",
        f"import pathlib\ndef handler(e, c):\n    pathlib.Path({str(marker)!r}).write_text('yes')\n",
    )
    runtime.install()

    response = invoke("later", InvocationType="Event")

    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.read_text() == "yes"


def test_given_two_invocations_at_once_when_both_wait_for_each_other_then_neither_blocks_the_other(runtime, tmp_path):
    # a barrier of two only opens if both handlers are inside at the same time
    source = "import threading\nBARRIER = threading.Barrier(2)\ndef handler(e, c):\n    return BARRIER.wait(timeout=5) >= 0\n"
    add(runtime, tmp_path, "meet", source)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(runtime.invoke("meet", {}).json())) for _ in range(2)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True, True]


def test_given_many_concurrent_first_calls_when_invoked_then_the_handler_module_is_imported_once(runtime, tmp_path):
    log = tmp_path / "imports.log"
    source = f"with open({str(log)!r}, 'a') as f:\n    f.write('x')\nimport time\ntime.sleep(0.05)\ndef handler(e, c):\n    return 1\n"
    add(runtime, tmp_path, "once", source)
    threads = [threading.Thread(target=runtime.invoke, args=("once", {})) for _ in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert log.read_text() == "x"


def test_given_two_functions_sharing_one_app_py_name_when_invoked_then_each_runs_its_own_module(runtime, tmp_path):
    add(runtime, tmp_path, "one", "def handler(e, c):\n    return 'one'\n")
    add(runtime, tmp_path, "two", "def handler(e, c):\n    return 'two'\n")

    assert (runtime.invoke("one", {}).json(), runtime.invoke("two", {}).json()) == ("one", "two")


def test_given_an_installed_runtime_when_uninstalled_twice_then_no_hook_remains(tmp_path):
    runtime = LambdaRuntime()
    before = len(invoke_hooks())
    runtime.install()
    runtime.install()
    assert len(invoke_hooks()) == before + 1

    runtime.uninstall()
    runtime.uninstall()

    assert len(invoke_hooks()) == before


def test_given_an_uninstalled_runtime_when_its_function_is_invoked_then_the_call_goes_on_to_moto(moto, tmp_path):
    runtime = LambdaRuntime()
    add(runtime, tmp_path, "echo", ECHO)
    runtime.install()
    session = boto3.session.Session(region_name="us-east-1")  # made while installed: it keeps the hook
    runtime.uninstall()

    with pytest.raises(ClientError) as raised:
        session.client("lambda").invoke(FunctionName="echo", Payload=b"{}")

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_given_an_unknown_function_when_invoked_then_the_call_goes_on_to_moto(runtime, moto):
    runtime.install()

    with pytest.raises(ClientError) as raised:
        invoke("not-ours")

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_given_a_local_lambda_context_when_powertools_injects_it_then_the_logger_accepts_it():
    from aws_lambda_powertools import Logger

    logger = Logger(service="local-test")

    @logger.inject_lambda_context
    def handler(event, context):
        return context.get_remaining_time_in_millis()

    remaining = handler({}, LambdaContext("fn", invoked_function_arn="arn:x", timeout_seconds=10))

    assert 0 < remaining <= 10_000


def test_given_a_handler_that_outruns_its_timeout_when_invoked_then_the_invoke_fails_as_lambdas_does(runtime, tmp_path):
    add(runtime, tmp_path, "slow", "import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'late'\n")
    runtime.functions["slow"] = dataclasses.replace(runtime.functions["slow"], timeout=0.2)

    result = runtime.invoke("slow", {})

    assert result.function_error == "Unhandled"
    assert result.error_type == "Sandbox.Timedout"
    assert "timed out after 0.20 seconds" in result.error_message
    runtime.timed_out[0].join(5)  # the abandoned handler still finishes on its own


def test_given_a_handler_within_its_timeout_when_invoked_then_its_result_comes_back(runtime, tmp_path):
    add(runtime, tmp_path, "quick", "def handler(e, c):\n    return 'on time'\n")

    assert runtime.invoke("quick", {}).json() == "on time"
    assert runtime.timed_out == []

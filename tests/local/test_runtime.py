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
from image_import_dev.local.runtime import (
    DEFAULT_SANDBOXES,
    LARGE_REQUESTS_VARIABLE,
    REQUEST_PAYLOAD_LIMIT,
    RESPONSE_PAYLOAD_LIMIT,
    SANDBOXES_VARIABLE,
    LambdaContext,
    LambdaRuntime,
    LocalFunction,
    RequestTooLarge,
    json_size,
    large_requests_served,
    sandboxes_per_function,
)

from tests.support.local_stack import invoke_hooks

ROOT = Path(__file__).resolve().parents[2]
BARRIER = threading.Barrier(2)  # shared by handlers in different sandboxes: this module is not copied


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
    # a barrier of two only opens if both handlers are inside at the same time (each in a sandbox of its
    # own, so the barrier lives in a module they share: this test's)
    source = "import tests.local.test_runtime as t\ndef handler(e, c):\n    return t.BARRIER.wait(timeout=5) >= 0\n"
    add(runtime, tmp_path, "meet", source)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(runtime.invoke("meet", {}).json())) for _ in range(2)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True, True]


def test_given_many_concurrent_first_calls_when_invoked_then_each_sandbox_imports_the_module_once(tmp_path):
    runtime = LambdaRuntime(sandboxes=2)
    log = tmp_path / "imports.log"
    source = f"with open({str(log)!r}, 'a') as f:\n    f.write('x')\nimport time\ntime.sleep(0.05)\ndef handler(e, c):\n    return 1\n"
    add(runtime, tmp_path, "once", source)
    threads = [threading.Thread(target=runtime.invoke, args=("once", {})) for _ in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.uninstall()

    assert log.read_text() in ("x", "xx")  # one cold start per sandbox, at most two sandboxes: not one per call


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


# ---------------------------------------------------------------------- sandboxes side by side (issue 11)
class Gate:
    """Holds an event inside its handler until the test lets it go: overlap without timing."""

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def hold(self) -> None:
        self.entered.set()
        assert self.release.wait(30), "the test never released the held event"


GATE: Gate | None = None

# module state at every level a Lambda sandbox keeps it: the handler module, the Logger's keys, the
# resolver's context, the composition's caches; and the plugin registry's entry points, which load
# through importlib rather than an import statement
STATEFUL = """
import importlib
from image_import.api.app import app
from image_import.observability import logger
from image_import.plugins import registry
from image_import.settings import environment
import tests.local.test_runtime as hooks

seen = []

def handler(event, context):
    if event.get("hold"):
        seen.append(event["hold"])
        logger.append_keys(held=event["hold"])
        app.append_context(held=event["hold"])
        hooks.GATE.hold()
    plugin = registry.available()["no_op"].load()
    found = {
        "seen": list(seen),
        "key": logger.get_current_keys().get("held"),
        "context": app.context.get("held"),
        "logger": id(logger),
        "cache": id(environment.get_resources),
        "import_module_is_ours": importlib.import_module("image_import.observability").logger is logger,
        "plugin_is_ours": issubclass(plugin, registry.ImportPlugin),
    }
    logger.remove_keys(["held"])  # sandbox 0 is the process's modules: leave them as found
    app.context.pop("held", None)
    return found
"""


@pytest.fixture
def gate():
    global GATE
    GATE = Gate()
    yield GATE
    GATE.release.set()
    GATE = None


def in_thread(target, *args) -> tuple[threading.Thread, dict]:
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=target(*args)), daemon=True)
    thread.start()
    return thread, box


def hold_one(runtime: LambdaRuntime, gate: Gate, name: str, event: dict) -> tuple[threading.Thread, dict]:
    held, box = in_thread(runtime.invoke, name, event)
    assert gate.entered.wait(30), "the held event never reached its handler"
    return held, box


def test_given_one_sandbox_busy_when_another_event_comes_then_it_runs_in_a_sandbox_with_its_own_module_state(
    runtime, gate, tmp_path
):
    add(runtime, tmp_path, "stateful", STATEFUL)
    held, box = hold_one(runtime, gate, "stateful", {"hold": "first"})

    second = runtime.invoke("stateful", {}).json()
    gate.release.set()
    held.join(30)
    first = box["result"].json()

    assert (first["seen"], first["key"], first["context"]) == (["first"], "first", "first")
    assert (second["seen"], second["key"], second["context"]) == ([], None, None)
    assert first["logger"] != second["logger"] and first["cache"] != second["cache"]
    assert first["import_module_is_ours"] and second["import_module_is_ours"]
    assert first["plugin_is_ours"] and second["plugin_is_ours"]


def test_given_calls_one_after_another_when_invoked_then_one_sandbox_serves_them_warm(runtime, tmp_path):
    add(runtime, tmp_path, "counter", "n = []\ndef handler(event, context):\n    n.append(1)\n    return len(n)\n")

    assert [runtime.invoke("counter", {}).json() for _ in range(3)] == [1, 2, 3]
    assert runtime.sandboxes_of("counter") == 1  # none made while calls did not overlap


def test_given_an_extra_sandbox_when_calls_overlap_again_then_it_is_reused_not_made_anew(runtime, gate, tmp_path):
    add(runtime, tmp_path, "stateful", STATEFUL)
    for round_ in ("one", "two"):
        gate.entered.clear()
        gate.release.clear()
        held, _ = hold_one(runtime, gate, "stateful", {"hold": round_})
        second = runtime.invoke("stateful", {}).json()
        gate.release.set()
        held.join(30)

    assert second["seen"] == []  # the extra sandbox never held anything: the held events went to sandbox 0
    assert runtime.sandboxes_of("stateful") == 2


def test_given_every_sandbox_busy_when_an_event_comes_then_it_waits_for_a_free_one(tmp_path, gate):
    runtime = LambdaRuntime(sandboxes=1)
    try:
        add(runtime, tmp_path, "stateful", STATEFUL)
        held, _ = hold_one(runtime, gate, "stateful", {"hold": "first"})
        waiting, box = in_thread(runtime.invoke, "stateful", {})
        waiting.join(0.3)
        assert waiting.is_alive() and not box

        gate.release.set()
        waiting.join(30)

        assert box["result"].json()["seen"] == ["first"]  # the same, warm sandbox
        assert runtime.sandboxes_of("stateful") == 1
    finally:
        runtime.uninstall()


def test_given_an_uninstalled_runtime_then_its_sandboxes_modules_are_gone_from_sys_modules(gate, tmp_path):
    import sys

    runtime = LambdaRuntime()
    add(runtime, tmp_path, "stateful", STATEFUL)
    held, _ = hold_one(runtime, gate, "stateful", {"hold": "first"})
    runtime.invoke("stateful", {})
    gate.release.set()
    held.join(30)
    copies = [name for name in sys.modules if name.startswith(f"_local_sandbox_{runtime._token}")]
    assert any(name.endswith(".image_import.observability") for name in copies)

    runtime.uninstall()

    assert not [name for name in sys.modules if runtime._token in name]


def test_given_a_sandbox_that_timed_out_when_the_next_event_comes_then_a_fresh_sandbox_takes_it(tmp_path):
    runtime = LambdaRuntime(sandboxes=1)
    try:
        source = (
            "import time\nn = []\ndef handler(e, c):\n    n.append(1)\n    time.sleep(e['sleep'])\n    return len(n)\n"
        )
        add(runtime, tmp_path, "slow", source)
        runtime.functions["slow"] = dataclasses.replace(runtime.functions["slow"], timeout=0.3)
        assert runtime.invoke("slow", {"sleep": 1}).error_type == "Sandbox.Timedout"

        assert runtime.invoke("slow", {"sleep": 0}).json() == 1  # not the busy one (it would wait), nor its state
        runtime.timed_out[0].join(5)
    finally:
        runtime.uninstall()


def test_given_no_setting_when_sized_then_the_pool_is_small_and_the_variable_changes_it():
    assert sandboxes_per_function({}) == DEFAULT_SANDBOXES <= 4
    assert sandboxes_per_function({SANDBOXES_VARIABLE: "1"}) == 1
    assert LambdaRuntime(sandboxes=0).sandboxes == 1
    for wrong in ("0", "two", "-1"):
        with pytest.raises(ValueError, match=SANDBOXES_VARIABLE):
            sandboxes_per_function({SANDBOXES_VARIABLE: wrong})


def test_given_the_api_function_held_on_an_event_when_another_call_comes_then_it_answers_meanwhile(
    runtime, gate, monkeypatch
):
    """A slow call (a large stage) no longer makes every other image call wait (issue 11)."""
    from image_import.api import app as api

    resolve = api.app.resolve

    def held_resolve(event, context):
        if event["path"] == "/hold":
            gate.hold()
        return resolve(event, context)

    monkeypatch.setattr(api.app, "resolve", held_resolve)  # the process's modules: the first sandbox's
    runtime.add(LocalFunction("api", ROOT / "functions" / "api", timeout=60))
    event = {"httpMethod": "GET", "resource": "/{proxy+}", "headers": {}, "requestContext": {"requestId": "r"}}
    held, _ = hold_one(runtime, gate, "api", {**event, "path": "/hold"})

    answer = runtime.invoke("api", {**event, "path": "/v2/nowhere"})

    assert held.is_alive()
    assert answer.function_error is None, answer.payload
    assert answer.json()["statusCode"] == 404


def test_given_two_functions_first_called_at_once_when_they_import_then_their_cold_starts_take_turns(runtime, tmp_path):
    # two threads importing one circular package at once meet it partially initialized: cold starts share
    # the process's imports, so they run one at a time
    log = tmp_path / "cold.log"
    source = f"import time\nwith open({str(log)!r}, 'a') as f:\n    f.write('<')\ntime.sleep(0.2)\nwith open({str(log)!r}, 'a') as f:\n    f.write('>')\ndef handler(e, c):\n    return 1\n"
    add(runtime, tmp_path, "one", source)
    add(runtime, tmp_path, "two", source)
    threads = [threading.Thread(target=runtime.invoke, args=(name, {})) for name in ("one", "two")]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert log.read_text() == "<><>"


# ---------------------------------------------------------------------------- payload limits
SIZED = "def handler(event, context):\n    return 'a' * event['n']\n"  # a result of n + 2 bytes as JSON
COUNTED = "RUNS = []\ndef handler(event, context):\n    RUNS.append(1)\n    return len(RUNS)\n"


def test_lambdas_limits_are_the_numbers_its_errors_give():
    assert (REQUEST_PAYLOAD_LIMIT, RESPONSE_PAYLOAD_LIMIT) == (6_291_456, 6_291_556)


def test_given_an_event_over_lambdas_request_limit_when_boto3_invokes_then_it_is_refused_with_413(runtime, tmp_path):
    add(runtime, tmp_path, "counted", COUNTED)
    runtime.install()

    with pytest.raises(ClientError) as refused:
        invoke("counted", "x" * (REQUEST_PAYLOAD_LIMIT - 1))  # with its quotes: one byte over

    assert refused.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert json.load(invoke("counted")["Payload"]) == 1  # the handler never ran for the refused one


def test_given_an_event_at_lambdas_request_limit_when_boto3_invokes_then_the_handler_runs(runtime, tmp_path):
    add(runtime, tmp_path, "counted", COUNTED)
    runtime.install()

    assert json.load(invoke("counted", "x" * (REQUEST_PAYLOAD_LIMIT - 2))["Payload"]) == 1


def test_given_an_event_over_the_limit_when_invoked_directly_then_request_too_large_is_raised(runtime, tmp_path):
    add(runtime, tmp_path, "counted", COUNTED)

    with pytest.raises(RequestTooLarge):
        runtime.invoke("counted", {"body": "é" * (REQUEST_PAYLOAD_LIMIT // 2)})  # 2 bytes each in UTF-8


def test_given_large_requests_served_when_an_event_is_over_the_limit_then_the_handler_runs(tmp_path, caplog):
    runtime = LambdaRuntime(large_requests=True)
    add(runtime, tmp_path, "counted", COUNTED)

    assert runtime.invoke("counted", {"body": "x" * REQUEST_PAYLOAD_LIMIT}).json() == 1
    assert "AWS refuses it" in caplog.text


def test_given_a_result_one_byte_over_lambdas_response_limit_when_invoked_then_the_invoke_fails(runtime, tmp_path):
    add(runtime, tmp_path, "sized", SIZED)
    runtime.install()

    response = invoke("sized", {"n": RESPONSE_PAYLOAD_LIMIT - 1})

    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")  # as Lambda: 200 all the same
    failure = json.load(response["Payload"])
    assert failure["errorType"] == "Function.ResponseSizeTooLarge"
    assert failure["errorMessage"] == "Response payload size exceeded maximum allowed payload size (6291556 bytes)."


def test_given_a_result_at_lambdas_response_limit_when_invoked_then_it_is_returned(runtime, tmp_path):
    add(runtime, tmp_path, "sized", SIZED)

    result = runtime.invoke("sized", {"n": RESPONSE_PAYLOAD_LIMIT - 2})

    assert result.function_error is None and len(result.payload) == RESPONSE_PAYLOAD_LIMIT


def test_json_size_is_compact_utf8_json_and_stops_counting_past_the_limit():
    value = {"a": ["é", 1, None, True], "b": {"c": 'q"\\n'}}

    assert json_size(value, 10**6) == len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    assert json_size({"body": "x" * 100, "more": "y"}, 50) > 50


def test_large_requests_are_refused_unless_the_variable_says_so():
    assert large_requests_served({}) is False
    assert large_requests_served({LARGE_REQUESTS_VARIABLE: "0"}) is False
    assert large_requests_served({LARGE_REQUESTS_VARIABLE: "1"}) is True
    with pytest.raises(ValueError, match=LARGE_REQUESTS_VARIABLE):
        large_requests_served({LARGE_REQUESTS_VARIABLE: "maybe"})

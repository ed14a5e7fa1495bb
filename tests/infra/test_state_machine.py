"""ASL contract checks on the committed definition and on any rendered chain."""

from __future__ import annotations

import json
import re

import pytest
from image_import_dev.render import LAMBDA_SERVICE_ERRORS, THROTTLED_RETRY, definition

from image_import import errors
from tests.support.asl_lint import lint
from tests.support.infra import resources_of, translate
from tests.support.paths import ROOT

# Every error name Step Functions defines (States.*) that a definition may match on.
STATES_ERRORS = {
    "States.ALL", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold", "States.HeartbeatTimeout",
    "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed", "States.NoChoiceMatched",
    "States.ParameterPathFailure", "States.Permissions", "States.ResultPathMatchFailure",
    "States.ResultWriterFailed", "States.Runtime", "States.TaskFailed", "States.Timeout",
    "States.QueryEvaluationError",
}  # fmt: skip
# what Step Functions reports when the function itself dies: timed out (Sandbox.Timedout), or failed
# without a response of its own (Lambda.Unknown: out of memory, runtime crash)
LAMBDA_RUNTIME_ERRORS = {"Sandbox.Timedout", "Lambda.Unknown"}
OUR_ERRORS = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, Exception)}


def committed() -> dict:
    return json.loads((ROOT / "statemachine/import.asl.json").read_text())


def tasks(asl: dict) -> dict[str, dict]:
    return {name: state for name, state in asl["States"].items() if state["Type"] == "Task"}


def error_names(asl: dict) -> set[str]:
    names = set()
    for state in asl["States"].values():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            names |= set(rule["ErrorEquals"])
    return names


def test_every_placeholder_has_a_substitution_and_every_substitution_is_used():
    template = translate()
    [machine] = resources_of(template, "AWS::StepFunctions::StateMachine").values()
    properties = machine["Properties"]
    text = json.dumps(properties["Definition"]) if "Definition" in properties else properties["DefinitionString"]
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(text)))
    provided = set(properties["DefinitionSubstitutions"])
    assert used == provided


@pytest.mark.parametrize("asl", [committed(), definition(["no_op", "stamp_import_method", "inject_image_metadata"])])
def test_every_lambda_task_retries_lambda_service_errors_and_catches_everything(asl):
    for name, state in tasks(asl).items():
        retried = {e for rule in state["Retry"] for e in rule["ErrorEquals"]}
        assert set(LAMBDA_SERVICE_ERRORS) <= retried, name
        assert any(rule["ErrorEquals"] == ["States.ALL"] for rule in state["Catch"]), name


@pytest.mark.parametrize("asl", [committed(), definition(["no_op"])])
def test_a_throttled_function_is_waited_for_minutes_not_seconds(asl):
    # WebDownloadMaxConcurrency (or the account's limit) throttles invokes: the import waits for a slot
    for name, state in tasks(asl).items():
        [rule] = [r for r in state["Retry"] if "Lambda.TooManyRequestsException" in r["ErrorEquals"]]
        interval, rate = rule["IntervalSeconds"], rule.get("BackoffRate", 2.0)
        waited = sum(interval * rate**attempt for attempt in range(rule["MaxAttempts"]))
        assert waited >= 5 * 60, (name, waited)


@pytest.mark.parametrize("asl", [committed(), definition(["no_op"])])
def test_every_matched_error_name_is_real(asl):
    unknown = {
        n
        for n in error_names(asl)
        if not (
            n in STATES_ERRORS
            or n in OUR_ERRORS
            or n in LAMBDA_SERVICE_ERRORS
            or n in LAMBDA_RUNTIME_ERRORS
            or n in THROTTLED_RETRY["ErrorEquals"]
        )
    }
    assert unknown == set()


def installed_plugins() -> list[str]:
    from importlib.metadata import entry_points

    return sorted(e.name for e in entry_points(group="glance.image_import.plugins"))


# the committed definition, then chains the renderer may produce from other configurations
CHAINS = {"no plugins": [], "every installed plugin": installed_plugins()}
CHAINS |= {f"only {p}": [p] for p in installed_plugins()}


@pytest.mark.parametrize("asl", [committed(), *map(definition, CHAINS.values())], ids=["committed", *CHAINS])
def test_the_definition_passes_the_statelint_equivalent(asl):
    """Schema (cfn-lint's ASL schema) and semantics (targets exist, states end, all reachable, States.ALL last, paths)."""
    problems = lint(asl)
    assert problems == [], "\n".join(map(str, problems))


def test_moto_accepts_the_definition_as_valid_asl(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        arn = boto3.client("stepfunctions").create_state_machine(
            name="lint", definition=json.dumps(committed()), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        assert arn.endswith(":lint")


# ---------------------------------------------------------------- the execution's timeout (render.execution_timeout)
def _timeout_of(**settings_changes) -> int:
    import dataclasses

    from image_import_dev.render import execution_timeout, function_timeouts
    from samtranslator.yaml_helper import yaml_parse

    from image_import.settings import load_settings

    settings = dataclasses.replace(load_settings(ROOT / "config"), **settings_changes)
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    return execution_timeout(
        definition(settings.image_import_plugins, bool(settings.stores)), function_timeouts(sam), settings
    )


def test_the_execution_times_out_after_the_longest_import_the_passes_allow():
    import math

    from image_import.settings import load_settings

    settings = load_settings(ROOT / "config")
    passes = math.ceil(settings.image_size_cap / settings.max_bytes_per_pass)
    timeouts = {r: p["Properties"]["Timeout"] for r, p in resources_of(translate(), "AWS::Lambda::Function").items()}
    timeout = committed()["TimeoutSeconds"]
    assert timeout == _timeout_of()  # the committed file is the derivation's
    # a web-download of the largest image: every pass of the download and of the store copy a full function
    # timeout, and each retried 3 times after a timeout, fits; what is left is the waits between retries
    # (~9.5 minutes a pass when throttled) and the single states, not a day more
    longest_loops = passes * 4 * (timeouts["WebDownloadFunction"] + timeouts["ImportToStoreFunction"])
    assert longest_loops < timeout < longest_loops + 2 * passes * 600 + 86400


def test_the_timeout_follows_the_size_cap_and_the_bytes_a_pass_moves():
    base = _timeout_of()
    assert _timeout_of(image_size_cap=2 * 1024**4) > 1.9 * base  # twice the passes
    assert _timeout_of(max_bytes_per_pass=32 * 1024**3) < 0.6 * base  # half the passes
    assert (
        _timeout_of(image_size_cap=1) < base / 40
    )  # one pass each (64 at the defaults), the other states as they were


def test_more_stores_add_the_rounds_of_their_copies():
    from image_import.settings.stores import StoreConfig

    def stores(count: int) -> tuple[StoreConfig, ...]:
        return tuple(StoreConfig(id=f"store-{n}") for n in range(count))

    single = _timeout_of()
    one_round, two_rounds = _timeout_of(stores=stores(5)), _timeout_of(stores=stores(6))  # the Map copies 4 at a time
    assert one_round > single
    assert two_rounds - single == pytest.approx(2 * (one_round - single), abs=2)


def test_no_timeout_beyond_what_step_functions_allows():
    assert _timeout_of(image_size_cap=10**18) == 365 * 24 * 3600

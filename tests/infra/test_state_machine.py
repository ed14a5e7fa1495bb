"""ASL contract checks on the committed definition and on any rendered chain."""

from __future__ import annotations

import json
import re

import pytest

from image_import import errors
from image_import.render import LAMBDA_SERVICE_ERRORS, definition
from tests.conftest import ROOT
from tests.infra.conftest import resources_of, translate

# Every error name Step Functions defines (States.*) that a definition may match on.
STATES_ERRORS = {
    "States.ALL", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold", "States.HeartbeatTimeout",
    "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed", "States.NoChoiceMatched",
    "States.ParameterPathFailure", "States.Permissions", "States.ResultPathMatchFailure",
    "States.ResultWriterFailed", "States.Runtime", "States.TaskFailed", "States.Timeout",
    "States.QueryEvaluationError",
}  # fmt: skip
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
def test_every_matched_error_name_is_real(asl):
    unknown = {n for n in error_names(asl) if not (n in STATES_ERRORS or n in OUR_ERRORS or n in LAMBDA_SERVICE_ERRORS)}
    assert unknown == set()


def test_every_state_is_reachable_and_every_next_exists():
    asl = committed()
    states = asl["States"]
    reachable, frontier = set(), [asl["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        assert name in states, name
        reachable.add(name)
        state = states[name]
        frontier += [state[k] for k in ("Next", "Default") if k in state]
        frontier += [c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])]
    assert reachable == set(states)


def test_moto_accepts_the_definition_as_valid_asl(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        arn = boto3.client("stepfunctions").create_state_machine(
            name="lint", definition=json.dumps(committed()), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        assert arn.endswith(":lint")

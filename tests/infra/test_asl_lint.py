"""The statelint stand-in (tests/support/asl_lint.py) passes good definitions and reports each kind of broken one."""

from __future__ import annotations

import copy

import pytest

from tests.support.asl_lint import lint, resolve_substitutions, schema_problems

LAMBDA = "arn:aws:states:::lambda:invoke"


def task(**fields) -> dict:
    return {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "f", "Payload.$": "$"}, **fields}


def machine(states: dict, start: str | None = None) -> dict:
    return {"StartAt": start or next(iter(states)), "States": states}


# a small machine that uses every state type, nesting, context paths and intrinsics: clean
GOOD = machine(
    {
        "Choose": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.a", "StringEquals": "x"}],
                    "Next": "Work",
                },
                {"Variable": "$.n", "NumericGreaterThanPath": "$.limit", "Next": "Fan"},
            ],
            "Default": "Done",
        },
        "Work": task(
            Parameters={
                "FunctionName": "${WorkFunctionArn}",
                "Payload": {"id.$": "$$.Execution.Id", "msg.$": "States.Format('{}', $.a)", "job.$": "$"},
            },
            ResultSelector={"out.$": "$.Payload"},
            ResultPath="$.result",
            OutputPath="$.result",
            Retry=[
                {"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1},
            ],
            Catch=[{"ErrorEquals": ["Custom"], "Next": "Failed"}, {"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            Next="Pause",
        ),
        "Pause": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Done"},
        "Fan": {
            "Type": "Parallel",
            "Branches": [machine({"Left": {"Type": "Pass", "End": True}}), machine({"Right": {"Type": "Succeed"}})],
            "ResultPath": None,
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": machine({"One": {"Type": "Pass", "InputPath": "$['odd key']", "End": True}}),
            "End": True,
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "Failed", "Cause": "see the task"},
    }
)


def test_a_definition_using_every_state_type_is_clean():
    assert lint(GOOD) == []


def test_substitutions_become_arns_so_arn_shaped_fields_validate():
    raw = machine({"Run": {"Type": "Task", "Resource": "${RunFunctionArn}", "End": True}})
    assert [p.check for p in schema_problems(raw)] == ["schema"]  # the raw placeholder is no ARN
    assert lint(raw) == []
    resolved = resolve_substitutions(raw, {"RunFunctionArn": "arn:aws:lambda:eu-west-1:1:function:run"})
    assert resolved["States"]["Run"]["Resource"] == "arn:aws:lambda:eu-west-1:1:function:run"


def broken(change) -> dict:
    asl = copy.deepcopy(GOOD)
    change(asl["States"])
    return asl


def _set(path: list, value):
    def change(states):
        target = states
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list):
    def change(states):
        target = states
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


CASES = {
    "dangling Next": (_set(["Work", "Next"], "Nowhere"), "next", "/States/Work/Next"),
    "dangling Default": (_set(["Choose", "Default"], "Nowhere"), "next", "/States/Choose/Default"),
    "dangling Choice rule Next": (
        _set(["Choose", "Choices", 1, "Next"], "Nowhere"),
        "next",
        "/States/Choose/Choices/1/Next",
    ),
    "dangling Catch Next": (_set(["Work", "Catch", 0, "Next"], "Nowhere"), "next", "/States/Work/Catch/0/Next"),
    "a branch jumping out of its scope": (
        _set(["Fan", "Branches", 0, "States", "Left"], {"Type": "Pass", "Next": "Done"}),
        "next",
        "/States/Fan/Branches/0/States/Left/Next",
    ),
    "missing End": (_delete(["Each", "End"]), "end", "/States/Each"),
    "both Next and End": (_set(["Pause", "End"], True), "end", "/States/Pause"),
    "End: false": (_set(["Each", "End"], False), "end", "/States/Each"),
    "a Succeed with Next": (_set(["Done", "Next"], "Failed"), "end", "/States/Done/Next"),
    "unreachable state": (_set(["Orphan"], {"Type": "Succeed"}), "reachable", "/States/Orphan"),
    "unreachable nested state": (
        _set(["Each", "ItemProcessor", "States", "Stray"], {"Type": "Succeed"}),
        "reachable",
        "/States/Each/ItemProcessor/States/Stray",
    ),
    "a state name used twice": (
        _set(["Fan", "Branches", 1, "States"], {"Right": {"Type": "Succeed"}, "Done": {"Type": "Succeed"}}),
        "unique",
        "/States/Fan/Branches/1/States/Done",
    ),
    "States.ALL not last in Retry": (
        lambda s: s["Work"]["Retry"].reverse(),
        "errors",
        "/States/Work/Retry/0/ErrorEquals",
    ),
    "States.ALL not last in Catch": (
        lambda s: s["Work"]["Catch"].reverse(),
        "errors",
        "/States/Work/Catch/0/ErrorEquals",
    ),
    "States.ALL not alone": (
        _set(["Work", "Catch", 1, "ErrorEquals"], ["Custom", "States.ALL"]),
        "errors",
        "/States/Work/Catch/1/ErrorEquals",
    ),
    "empty ErrorEquals": (_set(["Work", "Retry", 0, "ErrorEquals"], []), "errors", "/States/Work/Retry/0/ErrorEquals"),
    "unknown Type": (_set(["Pause", "Type"], "Sleep"), "schema", "/States/Pause/Type"),
    "unknown field": (_set(["Work", "Retries"], 3), "schema", "/States/Work"),
    "a Task without Resource": (_delete(["Work", "Resource"]), "schema", "/States/Work"),
    "a field of the wrong type": (_set(["Work", "TimeoutSeconds"], "soon"), "schema", "/States/Work/TimeoutSeconds"),
    "a Fail with Catch": (_set(["Failed", "Catch"], []), "schema", "/States/Failed"),
    "InputPath not from $": (_set(["Work", "InputPath"], "Payload"), "path", "/States/Work/InputPath"),
    "ResultPath into the context": (_set(["Work", "ResultPath"], "$$.Execution"), "path", "/States/Work/ResultPath"),
    "ResultPath with a wildcard": (_set(["Work", "ResultPath"], "$.items[*]"), "path", "/States/Work/ResultPath"),
    "OutputPath not from $": (_set(["Work", "OutputPath"], "result"), "path", "/States/Work/OutputPath"),
    "a .$ parameter that is no path": (
        _set(["Work", "Parameters", "Payload", "job.$"], "job"),
        "path",
        "/States/Work/Parameters/Payload/job.$",
    ),
    "a Choice Variable that is no path": (
        _set(["Choose", "Choices", 1, "Variable"], "n"),
        "path",
        "/States/Choose/Choices/1/Variable",
    ),
    "a nested Choice operand that is no path": (
        _set(["Choose", "Choices", 0, "And", 1, "Variable"], "a"),
        "path",
        "/States/Choose/Choices/0/And/1/Variable",
    ),
    "ItemsPath not from $": (_set(["Each", "ItemsPath"], "items"), "path", "/States/Each/ItemsPath"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_linter_reports_each_kind_of_broken_definition(case):
    change, check, where = CASES[case]
    problems = lint(broken(change))
    assert any(p.check == check and p.where == where for p in problems), "\n".join(map(str, problems))


def test_a_startat_naming_no_state_is_reported():
    problems = lint(machine({"A": {"Type": "Succeed"}}, start="B"))
    assert any(p.check == "start-at" and p.where == "/StartAt" for p in problems)


def test_a_missing_startat_or_states_breaks_the_schema():
    assert any(p.check == "schema" for p in lint({"States": {"A": {"Type": "Succeed"}}}))
    assert any(p.check == "schema" for p in lint({"StartAt": "A"}))


def test_problems_read_as_pointer_message_and_check():
    [problem] = [p for p in lint(broken(_set(["Work", "Next"], "Nowhere"))) if p.check == "next"]
    assert str(problem) == "/States/Work/Next: 'Nowhere' names no state of this scope [next]"

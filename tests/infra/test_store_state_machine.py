"""The multi-store definition (a Map state over the further stores): statelint-clean, every Lambda task inside
the Map retried and caught, every error name real."""

from __future__ import annotations

from image_import_dev.render import LAMBDA_SERVICE_ERRORS, definition

from tests.support.asl_lint import lint

MULTI_STORE = definition(["no_op", "inject_image_metadata"], multi_store=True)


def all_tasks(states: dict) -> dict:
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        if state["Type"] == "Map":
            found |= all_tasks(state["ItemProcessor"]["States"])
    return found


def test_the_multi_store_definition_passes_the_statelint_equivalent():
    problems = lint(MULTI_STORE)
    assert problems == [], "\n".join(map(str, problems))


def test_every_task_inside_and_outside_the_map_retries_lambda_errors_and_catches_everything():
    tasks = all_tasks(MULTI_STORE["States"])
    assert "CopyToStore" in tasks
    for name, state in tasks.items():
        retried = {e for rule in state["Retry"] for e in rule["ErrorEquals"]}
        assert set(LAMBDA_SERVICE_ERRORS) <= retried, name
        assert any(rule["ErrorEquals"] == ["States.ALL"] for rule in state["Catch"]), name


def test_moto_accepts_the_multi_store_definition(aws_env):
    import json

    import boto3
    from moto import mock_aws

    with mock_aws():
        arn = boto3.client("stepfunctions").create_state_machine(
            name="stores", definition=json.dumps(MULTI_STORE), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        assert arn.endswith(":stores")

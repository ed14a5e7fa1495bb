"""An import through the whole integration stack, and the states its execution entered."""

from __future__ import annotations

import boto3

from tests.support.stack_state import wait_for_executions


def states_entered(stack) -> list[str]:
    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["ImportStateMachineArn"]
    [execution] = sfn.list_executions(stateMachineArn=arn)["executions"]
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    return [name for name in entered if name != "ChooseMethod"]  # the method switch does no work


def import_and_wait(api, stack, data: bytes, **fields) -> dict:
    image = api.create(**fields)
    assert api.stage(image["id"], data).status == 204
    assert api.import_(image["id"]).status == 202
    [execution] = wait_for_executions(stack)
    assert execution["status"] in ("SUCCEEDED", "FAILED")
    return api.show(image["id"])

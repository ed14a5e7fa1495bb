"""Starts import executions of the state machine."""

from __future__ import annotations

import json
from typing import Any

from image_import.adapters.aws import client, error_code


class ExecutionAlreadyStarted(Exception):
    pass


class ImportWorkflow:
    def __init__(self, state_machine_arn: str):
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, document: dict[str, Any]) -> str:
        """Start one execution; the name is deterministic so a replay cannot start a second one."""
        try:
            response = client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(document)
            )
        except Exception as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                raise ExecutionAlreadyStarted(name) from None
            raise
        return response["executionArn"]

    def status(self, name: str) -> str | None:
        """Status of the named execution (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED), None if it never started."""
        # execution ARNs are the state machine's with ':execution:' and the name appended
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
        try:
            return client("stepfunctions").describe_execution(executionArn=arn)["status"]
        except Exception as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise

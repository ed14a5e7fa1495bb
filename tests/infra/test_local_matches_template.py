"""Every resource the local stack creates comes from template.yaml, as translated for AWS."""

from __future__ import annotations

import json

import boto3

from tests.support.infra import resources_of, translate


def test_local_resources_are_the_templates(stack):
    cfn = translate()
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert buckets == {stack.physical_name(lid) for lid in resources_of(cfn, "AWS::S3::Bucket")}
    tables = set(dynamodb.list_tables()["TableNames"])
    assert tables == {stack.physical_name(lid) for lid in resources_of(cfn, "AWS::DynamoDB::Table")}
    for lid, table in resources_of(cfn, "AWS::DynamoDB::Table").items():
        described = dynamodb.describe_table(TableName=stack.physical_name(lid))["Table"]
        assert described["KeySchema"] == table["Properties"]["KeySchema"]
        indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])}


def test_local_functions_have_the_templates_handlers_and_environment(stack):
    cfn = translate()
    functions = resources_of(cfn, "AWS::Lambda::Function")
    assert set(stack.function_names) == set(functions)
    for lid, function in functions.items():
        local = stack.runtime.functions[stack.function_names[lid]]
        assert local.handler == function["Properties"]["Handler"], lid
        assert local.timeout == function["Properties"].get("Timeout", 3), lid
        for key in function["Properties"].get("Environment", {}).get("Variables", {}):
            assert key in stack.environment, (lid, key)


def test_the_local_state_machine_has_every_substitution_resolved(stack):
    sfn = boto3.client("stepfunctions")
    [arn] = stack.state_machines.values()
    text = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in text
    functions = set(stack.function_names.values())
    for state in json.loads(text)["States"].values():
        if state["Type"] == "Task":
            assert state["Parameters"]["FunctionName"].split(":")[-1] in functions

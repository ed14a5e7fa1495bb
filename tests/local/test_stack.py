"""LocalStack: the fixture template's resources, names, environment and workflow, created in moto."""

from __future__ import annotations

import copy
import json
import os

import boto3
import pytest
from image_import_dev.local import LocalStackError

from tests.support.local_stack import invoke_hooks


def with_resource(logical_id: str, resource: dict):
    def hook(sam: dict) -> dict:
        sam["Resources"][logical_id] = resource
        return sam

    return hook


def with_function_variable(logical_id: str, key: str, value: str):
    def hook(sam: dict) -> dict:
        props = sam["Resources"][logical_id]["Properties"]
        props.setdefault("Environment", {"Variables": {}})["Variables"][key] = value
        return sam

    return hook


def test_given_the_fixture_template_when_up_then_its_bucket_exists_under_a_lowercase_stack_name(make_stack):
    stack = make_stack(name="Fixture")

    assert stack.physical_name("DataBucket") == "fixture-databucket"
    assert "fixture-databucket" in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]


def test_given_the_fixture_template_when_up_then_the_table_has_its_global_secondary_index(stack):
    table = boto3.client("dynamodb").describe_table(TableName=stack.physical_name("ItemsTable"))["Table"]

    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-owner"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_given_definition_substitutions_when_up_then_the_state_machine_has_every_one_resolved(stack):
    arn = stack.outputs["FlowArn"]

    definition = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]

    assert "${" not in definition
    step = json.loads(definition)["States"]["Step"]["Parameters"]["FunctionName"]
    assert step == "arn:aws:lambda:us-east-1:123456789012:function:t-StepFunction"
    assert json.loads(definition)["States"]["Done"]["Parameters"]["table"] == "t-ItemsTable"


def test_given_a_sam_hook_adding_a_bucket_when_up_then_the_bucket_exists_with_no_other_change(make_stack):
    stack = make_stack(sam_hook=with_resource("ExtraBucket", {"Type": "AWS::S3::Bucket"}))

    names = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]

    assert stack.physical_name("ExtraBucket") in names


def test_given_a_sam_hook_adding_a_function_when_up_then_boto3_can_invoke_it(make_stack):
    extra = {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "functions/step/", "Handler": "app.handler"},
    }
    stack = make_stack(sam_hook=with_resource("ExtraFunction", extra))

    response = boto3.client("lambda").invoke(FunctionName=stack.function_names["ExtraFunction"], Payload=b'{"id": "a"}')

    assert json.load(response["Payload"])["id"] == "a"


def test_given_a_sam_hook_with_an_inline_definition_when_up_then_it_replaces_the_definition_uri(make_stack):
    def inline(sam: dict) -> dict:
        props = sam["Resources"]["FlowStateMachine"]["Properties"]
        del props["DefinitionUri"]
        props["Definition"] = {
            "StartAt": "Only",
            "States": {"Only": {"Type": "Pass", "Result": "${TableName}", "End": True}},
        }
        return sam

    stack = make_stack(sam_hook=inline)

    definition = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=stack.outputs["FlowArn"])
    assert json.loads(definition["definition"])["States"]["Only"]["Result"] == "t-ItemsTable"


def test_given_a_definition_with_an_unknown_substitution_when_up_then_it_fails_naming_it(make_stack):
    def unknown(sam: dict) -> dict:
        props = sam["Resources"]["FlowStateMachine"]["Properties"]
        del props["DefinitionUri"]
        props["Definition"] = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "${Nope}", "End": True}}}
        return sam

    with pytest.raises(LocalStackError, match=r"\$\{Nope\}"):
        make_stack(sam_hook=unknown)


def test_given_a_failed_up_when_it_raises_then_no_hook_and_no_variable_is_left_behind(make_stack):
    before = len(invoke_hooks())

    with pytest.raises(LocalStackError):
        make_stack(sam_hook=with_resource("Broken", {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}}))

    assert len(invoke_hooks()) == before
    assert "GREETING" not in os.environ


def test_given_the_fixture_template_when_up_then_outputs_are_resolved(stack):
    assert stack.outputs["BucketName"] == "t-databucket"
    assert (
        stack.outputs["ApiUrl"] == f"https://{stack.apis['FixtureApi'].api_id}.execute-api.us-east-1.amazonaws.com/test"
    )


def test_given_parameters_when_up_then_they_replace_the_defaults(make_stack):
    stack = make_stack(parameters={"Greeting": "bonjour"})

    assert stack.environment["GREETING"] == "bonjour"


def test_given_functions_with_their_own_variables_when_up_then_the_process_has_their_union(stack):
    assert os.environ["TABLE_NAME"] == "t-ItemsTable"  # every function (Globals)
    assert os.environ["STEP_MODE"] == "strict"  # StepFunction only


def test_given_two_functions_giving_a_variable_different_values_when_up_then_it_fails_naming_it(make_stack):
    with pytest.raises(LocalStackError, match="GREETING"):
        make_stack(sam_hook=with_function_variable("StepFunction", "GREETING", "hi"))


def test_given_an_override_when_up_then_it_wins_over_the_template(make_stack):
    make_stack(env_overrides={"TABLE_NAME": "elsewhere"})

    assert os.environ["TABLE_NAME"] == "elsewhere"


def test_given_an_override_of_a_conflicting_variable_when_up_then_there_is_no_conflict(make_stack):
    make_stack(sam_hook=with_function_variable("StepFunction", "GREETING", "hi"), env_overrides={"GREETING": "hey"})

    assert os.environ["GREETING"] == "hey"


def test_given_a_running_stack_when_down_then_the_process_environment_is_restored(make_stack, monkeypatch):
    monkeypatch.setenv("GREETING", "before")
    stack = make_stack()

    stack.down()

    assert os.environ["GREETING"] == "before"
    assert "STEP_MODE" not in os.environ


def test_given_a_running_stack_when_down_then_its_invoke_hook_is_gone(make_stack):
    before = len(invoke_hooks())
    stack = make_stack()
    assert len(invoke_hooks()) == before + 1

    stack.down()

    assert len(invoke_hooks()) == before


def test_given_a_step_raising_image_rejected_when_the_workflow_runs_then_its_catch_sees_the_class_name(stack):
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.outputs["FlowArn"], name="reject", input='{"id": "a", "reject": true}'
    )

    execution = stack.wait(arn["executionArn"], timeout=20)

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["error"]["Error"] == "ImageRejected"


def test_given_a_step_that_succeeds_when_the_workflow_runs_then_it_saw_the_shared_environment(stack):
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.outputs["FlowArn"], name="happy", input='{"id": "b"}')

    execution = stack.wait(arn["executionArn"], timeout=20)

    assert json.loads(execution["output"]) == {
        "table": "t-ItemsTable",
        "step": {"id": "b", "table": "t-ItemsTable", "mode": "strict"},
    }


def test_given_a_sam_hook_when_up_then_it_sees_the_template_as_written_before_local_paths_are_rewritten(make_stack):
    seen: list[dict] = []

    def spy(sam: dict) -> dict:
        seen.append(copy.deepcopy(sam))
        return sam

    make_stack(sam_hook=spy)

    assert seen[0]["Resources"]["FlowStateMachine"]["Properties"]["DefinitionUri"] == "statemachine/flow.asl.json"
    assert seen[0]["Resources"]["ApiFunction"]["Properties"]["CodeUri"] == "functions/api/"


def test_given_a_sam_hook_that_returns_nothing_when_up_then_it_fails_saying_so(make_stack):
    with pytest.raises(LocalStackError, match="sam_hook must return"):
        make_stack(sam_hook=lambda sam: None)


def test_given_the_fixture_template_when_up_then_function_names_lists_every_function(stack):
    assert stack.function_names == {
        "AuthorizerFunction": "t-AuthorizerFunction",
        "ApiFunction": "t-ApiFunction",
        "StepFunction": "t-StepFunction",
    }


def test_given_a_stack_when_fresh_then_the_copy_is_made_without_translating_again_and_runs_on_its_own(moto):
    from image_import_dev.local.stack import LocalStack

    from tests.support.local_stack import TEMPLATE

    calls = []

    def counting(sam: dict) -> dict:
        calls.append(1)
        return sam

    first = LocalStack(TEMPLATE, name="t", sam_hook=counting, env_overrides={"A": "1"})
    twin = first.fresh()
    twin.env_overrides["A"] = "2"
    twin.cfn["Resources"].pop("DataBucket")

    assert calls == [1]  # the hook (and SAM's translation) ran once, for the first
    assert "DataBucket" in first.cfn["Resources"] and first.env_overrides == {"A": "1"}
    assert twin.runtime is not first.runtime and twin.resolver is not first.resolver
    fresh = first.fresh().up()
    try:
        assert fresh.runtime.installed and not first.runtime.installed
        assert "t-databucket" in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
        assert fresh.function_names == first.function_names
    finally:
        fresh.down()

"""API Gateway access logs: one JSON object a request, to a log group with retention."""

from __future__ import annotations

import json
import re

from tests.support.infra import resources_of

# what an operator finds in each line (docs/deployment.md: API access logs)
FIELDS = {
    "requestId",
    "ip",
    "caller",
    "httpMethod",
    "resourcePath",
    "status",
    "responseLength",
    "requestTime",
    "integrationLatency",
}


def _stage(cfn) -> dict:
    [stage] = resources_of(cfn, "AWS::ApiGateway::Stage").values()
    return stage["Properties"]


def test_the_stage_logs_each_request_to_the_access_log_group(cfn):
    setting = _stage(cfn)["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    group = cfn["Resources"]["ApiAccessLogs"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_each_line_is_a_json_object_with_the_callers_request_and_its_outcome(cfn):
    line = _stage(cfn)["AccessLogSetting"]["Format"]
    assert "\n" not in line  # one line a request
    # API Gateway puts each $context value in place: quoted ones as text, messageString with its quotes
    sample = re.sub(r"\$context\.[A-Za-z.]+String", '"a message"', line)
    sample = re.sub(r"\$context\.[A-Za-z.]+", "value", sample)
    entry = json.loads(sample)
    assert set(entry) >= FIELDS
    assert "$context.authorizer.principalId" in line and "$context.identity.sourceIp" in line


def test_the_account_logging_role_is_the_stacks_only_when_asked(cfn):
    resources = cfn["Resources"]
    assert cfn["Conditions"]["SetsApiGatewayAccount"] == {"Fn::Equals": [{"Ref": "ApiGatewayCloudWatchRole"}, "true"]}
    assert resources["ApiGatewayAccount"]["Condition"] == "SetsApiGatewayAccount"
    assert resources["ApiGatewayLoggingRole"]["Condition"] == "SetsApiGatewayAccount"
    assert resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]
    }
    # the API (and so its stage) waits for the account setting when the stack makes it
    [api_id] = resources_of(cfn, "AWS::ApiGateway::RestApi")
    assert "ApiGatewayAccountReady" in resources[api_id].get("DependsOn", [])
    ready = resources["ApiGatewayAccountReady"]["Metadata"]["Account"]
    assert ready == {"Fn::If": ["SetsApiGatewayAccount", {"Ref": "ApiGatewayAccount"}, ""]}

"""The template's defences for many tenants and a deployed stack's hygiene, checked offline:
stage throttling and reserved concurrency from parameters, the lifecycle-event bus, the Keystone
password out of the config layer, and what only a development stack may do."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.infra import resources_of
from tests.support.paths import ROOT
from tests.support.template import as_list, function_roles, statements


def resolved(cfn: dict, parameters: dict[str, str]):
    """The template's values as CloudFormation would resolve them with these parameters."""
    from image_import_dev.local.template import Resolver

    return Resolver(cfn, stack_name="s", region="eu-west-1", account_id="123456789012", parameters=parameters)


# ---------------------------------------------------------------- throttling
def test_the_api_stage_throttles_every_method_by_the_parameters(cfn):
    [stage] = resources_of(cfn, "AWS::ApiGateway::Stage").values()
    [setting] = stage["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}


def test_the_throttling_defaults_are_safe(cfn):
    rate = cfn["Parameters"]["ApiThrottlingRateLimit"]["Default"]
    burst = cfn["Parameters"]["ApiThrottlingBurstLimit"]["Default"]
    # below API Gateway's account defaults (10,000 rps, 5,000 burst): one stack cannot take a whole account's
    assert 1 <= rate <= burst <= 5000 and rate < 10_000


@pytest.mark.parametrize(
    ("function", "parameter", "default"),
    [
        ("ApiFunction", "ApiReservedConcurrency", None),
        ("AuthorizerFunction", "AuthorizerReservedConcurrency", None),
        ("WebDownloadFunction", "WebDownloadMaxConcurrency", "10"),
    ],
)
def test_reserved_concurrency_comes_from_its_parameter_and_zero_reserves_none(cfn, function, parameter, default):
    def reserved(parameters):
        return (
            resolved(cfn, parameters)
            .resolve(cfn["Resources"][function]["Properties"])
            .get("ReservedConcurrentExecutions")
        )

    assert reserved({}) == default  # by default: the API and authorizer unreserved, web-download bounded
    assert reserved({parameter: "25"}) == "25"
    assert reserved({parameter: "0"}) is None


# ---------------------------------------------------------------- lifecycle events
def test_the_event_bus_is_an_output_and_every_function_knows_it(cfn):
    assert resources_of(cfn, "AWS::Events::EventBus")
    assert cfn["Outputs"]["EventBusArn"]["Value"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    for function_id, function in resources_of(cfn, "AWS::Lambda::Function").items():
        assert function["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "EventBus"}, function_id


def test_functions_may_put_events_on_the_stacks_bus_only(cfn):
    publishers = set()
    for role_id, role in function_roles(cfn).items():
        for _, statement in statements(role):
            if "events:PutEvents" in as_list(statement["Action"]):
                assert statement["Resource"] == {"Fn::GetAtt": ["EventBus", "Arn"]}, role_id
                assert as_list(statement["Action"]) == ["events:PutEvents"]
                publishers.add(role_id)
    # every function that changes images or tasks; never the authorizer, delete-staging or a plugin
    assert publishers == {f"{f}FunctionRole" for f in ("Api", "OnUpload", "WebDownload", "VerifyStaging",
                                                        "ImportToStore", "CompleteImport", "RevertImport", "Sweeper")}  # fmt: skip


# ---------------------------------------------------------------- secrets and development-only switches
def rule_holds(cfn: dict, rule: str, parameters: dict[str, str]) -> bool:
    """A template Rule evaluated as CloudFormation does (the few functions ours use)."""
    values = {name: str(spec.get("Default")) for name, spec in cfn["Parameters"].items()} | parameters

    def evaluate(node):
        if isinstance(node, dict):
            ((function, argument),) = node.items()
            if function == "Ref":
                return values[argument]
            if function == "Fn::Equals":
                return evaluate(argument[0]) == evaluate(argument[1])
            if function == "Fn::Not":
                return not evaluate(argument[0])
            raise AssertionError(f"unexpected {function}")
        return str(node)

    spec = cfn["Rules"][rule]
    if "RuleCondition" in spec and not evaluate(spec["RuleCondition"]):
        return True
    return all(evaluate(assertion["Assert"]) for assertion in spec["Assertions"])


@pytest.mark.parametrize(
    ("parameters", "accepted"),
    [
        ({"TokenBackend": "token_file"}, False),
        ({"TokenBackend": "token_file", "DevelopmentStack": "false"}, False),
        ({"TokenBackend": "token_file", "DevelopmentStack": "true"}, True),
        ({"TokenBackend": "dynamodb"}, True),
        ({"TokenBackend": "keystone"}, True),
    ],
)
def test_token_file_needs_an_explicit_development_stack(cfn, parameters, accepted):
    assert rule_holds(cfn, "TokenFileOnlyOnDevelopmentStacks", parameters) is accepted


def test_the_password_comes_from_one_place(cfn):
    both = {
        "KeystonePasswordSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ks",
        "KeystonePasswordParameter": "/ks",
    }
    assert not rule_holds(cfn, "OnePasswordSource", both)
    assert rule_holds(cfn, "OnePasswordSource", {"KeystonePasswordParameter": "/ks"})


def test_the_authorizer_learns_where_the_password_is_and_whether_it_is_a_development_stack(cfn):
    variables = cfn["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEYSTONE_PASSWORD_SECRET_ARN"] == {"Ref": "KeystonePasswordSecretArn"}
    assert variables["KEYSTONE_PASSWORD_PARAMETER"] == {"Ref": "KeystonePasswordParameter"}
    assert variables["DEVELOPMENT_STACK"] == {"Ref": "DevelopmentStack"}
    assert cfn["Parameters"]["DevelopmentStack"]["Default"] == "false"


def authorizer_grants(cfn: dict, parameters: dict[str, str], role_id: str = "AuthorizerFunctionRole"):
    role = resolved(cfn, parameters).resolve(cfn["Resources"][role_id]["Properties"])
    return [
        (as_list(statement["Action"]), statement["Resource"])
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ks-AbCdEf"
SECRET_GRANT = (["secretsmanager:GetSecretValue"], ARN)
PARAMETER_GRANT = (["ssm:GetParameter"], "arn:aws:ssm:eu-west-1:123456789012:parameter/ks")


def password_grants(cfn: dict, parameters: dict[str, str], role_id: str) -> list:
    return [g for g in authorizer_grants(cfn, parameters, role_id) if g[0][0].startswith(("secretsmanager:", "ssm:"))]


@pytest.mark.parametrize("function", ["ApiFunction", "OnUploadFunction"])
@pytest.mark.parametrize(("switch", "granted"), [({"KeystoneLimits": "true"}, True), ({"KeystoneLimits": "false"}, False), ({}, False)])  # fmt: skip
def test_the_functions_that_check_quotas_may_read_the_password_only_with_keystone_limits_and_a_named_secret(
    cfn, function, switch, granted
):
    """use_keystone_limits: the quota checks read Keystone's limits as the service user, whose password
    stays out of the config layer there too; without Keystone's limits they never need it (issue 21)."""
    role = f"{function}Role"
    assert password_grants(cfn, {"KeystonePasswordSecretArn": ARN} | switch, role) == (
        [SECRET_GRANT] if granted else []
    )
    assert password_grants(cfn, {"KeystonePasswordParameter": "/ks"} | switch, role) == (
        [PARAMETER_GRANT] if granted else []
    )
    assert password_grants(cfn, switch, role) == []  # no secret named, no grant


@pytest.mark.parametrize("function", ["ApiFunction", "OnUploadFunction"])
def test_the_quota_checks_grants_are_conditional_on_both_parameters_and_the_switch_reaches_the_function(cfn, function):
    assert cfn["Parameters"]["KeystoneLimits"]["Default"] == "false"
    assert cfn["Parameters"]["KeystoneLimits"]["AllowedValues"] == ["true", "false"]
    assert cfn["Conditions"]["UsesKeystoneLimits"] == {"Fn::Equals": [{"Ref": "KeystoneLimits"}, "true"]}
    assert cfn["Conditions"]["LimitsReadPasswordSecret"] == {
        "Fn::And": [{"Condition": "HasPasswordSecret"}, {"Condition": "UsesKeystoneLimits"}]
    }
    assert cfn["Conditions"]["LimitsReadPasswordParameter"] == {
        "Fn::And": [{"Condition": "HasPasswordParameter"}, {"Condition": "UsesKeystoneLimits"}]
    }
    conditional = {
        statement["Fn::If"][0]: statement["Fn::If"][1]
        for policy in cfn["Resources"][f"{function}Role"]["Properties"]["Policies"]
        if "PolicyDocument" in policy  # not multi-store's conditional policy
        for statement in policy["PolicyDocument"]["Statement"]
        if "Fn::If" in statement
    }
    assert conditional["LimitsReadPasswordSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert conditional["LimitsReadPasswordSecret"]["Resource"] == {"Ref": "KeystonePasswordSecretArn"}
    assert conditional["LimitsReadPasswordParameter"]["Action"] == ["ssm:GetParameter"]
    assert not {"HasPasswordSecret", "HasPasswordParameter"} & set(conditional)
    variables = cfn["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert variables["USE_KEYSTONE_LIMITS"] == {"Ref": "KeystoneLimits"}
    assert variables["KEYSTONE_PASSWORD_SECRET_ARN"] == {"Ref": "KeystonePasswordSecretArn"}


@pytest.mark.parametrize(("backend", "granted"), [("keystone", True), ("dynamodb", False), ("token_file", False)])
def test_the_authorizer_may_read_the_named_secret_or_parameter_only_with_the_keystone_backend(cfn, backend, granted):
    role, backend_of = "AuthorizerFunctionRole", {"TokenBackend": backend}
    assert password_grants(cfn, {"KeystonePasswordSecretArn": ARN} | backend_of, role) == (
        [SECRET_GRANT] if granted else []
    )
    assert password_grants(cfn, {"KeystonePasswordParameter": "/ks"} | backend_of, role) == (
        [PARAMETER_GRANT] if granted else []
    )
    assert [actions for actions, _ in authorizer_grants(cfn, backend_of)] == [["dynamodb:GetItem"]]


def test_the_authorizer_may_read_the_named_secret_or_parameter_and_nothing_else(cfn):
    keystone = {"TokenBackend": "keystone"}
    assert (["secretsmanager:GetSecretValue"], ARN) in authorizer_grants(
        cfn, {"KeystonePasswordSecretArn": ARN} | keystone
    )
    parameter = authorizer_grants(cfn, {"KeystonePasswordParameter": "/image-import/ks"} | keystone)
    assert (["ssm:GetParameter"], "arn:aws:ssm:eu-west-1:123456789012:parameter/image-import/ks") in parameter
    assert [actions for actions, _ in authorizer_grants(cfn, keystone)] == [["dynamodb:GetItem"]]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("", True), ("https://keystone.example.com:5000", True), ("http://keystone.example.com:5000", False)],
)
def test_keystone_is_reached_over_https_only(cfn, url, allowed):
    assert bool(re.fullmatch(cfn["Parameters"]["KeystoneUrl"]["AllowedPattern"], url)) is allowed


@pytest.mark.parametrize("include", [False, True])
def test_the_config_layer_never_carries_the_development_tokens_unless_asked(tmp_path: Path, include):
    from samtranslator.yaml_helper import yaml_parse

    layer = yaml_parse((ROOT / "template.yaml").read_text())["Resources"]["ConfigLayer"]
    assert layer["Properties"]["ContentUri"] == "config/"
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # config/Makefile, not the folder as it is
    env = {"PATH": "/usr/bin:/bin", **({"INCLUDE_DEVELOPMENT_TOKENS": "1"} if include else {})}
    command = ["make", "-s", "-C", str(ROOT / "config"), "build-ConfigLayer", f"ARTIFACTS_DIR={tmp_path}"]
    subprocess.run(command, check=True, env=env, timeout=60)

    shipped = {path.name for path in tmp_path.iterdir()}
    operator_files = {p.name for p in (ROOT / "config").iterdir() if p.is_file()} - {"Makefile", "local-tokens.yaml"}
    assert shipped == operator_files | ({"local-tokens.yaml"} if include else set())


def test_the_local_stack_is_a_development_stack(settings):
    from image_import_dev.render import local_identity
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((ROOT / "template.yaml").read_text())
    local = local_identity(sam, settings)

    assert local["Parameters"]["DevelopmentStack"]["Default"] == "true"  # token_file and a loopback Keystone work


@pytest.mark.parametrize("limits", [False, True])
def test_the_local_stack_takes_keystone_limits_from_its_configuration(settings, limits):
    from dataclasses import replace

    from image_import_dev.render import local_identity
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((ROOT / "template.yaml").read_text())
    local = local_identity(sam, replace(settings, use_keystone_limits=limits))

    assert local["Parameters"]["KeystoneLimits"]["Default"] == ("true" if limits else "false")
    assert sam["Parameters"]["DevelopmentStack"]["Default"] == "false"  # the deployed template is untouched


def test_every_template_parameter_is_documented_in_the_deployment_page(cfn):
    page = (ROOT / "docs" / "deployment.md").read_text()  # the README links it: tests/unit/test_docs.py
    table = page[page.index("## What the template deploys, and its parameters") :]
    table = table[: table.index("\n\n", table.index("| parameter |"))]
    undocumented = [name for name in cfn["Parameters"] if f"`{name}`" not in table]
    assert undocumented == []

"""What an operator deploys: least privilege, safe data, logs and alarms, checked offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.infra import MANAGED_POLICIES, resources_of
from tests.support.paths import ROOT
from tests.support.template import _resources, as_list, function_roles, statements

# Actions that only exist with Resource "*" (no resource-level permissions), and why we need them.
WILDCARD_ALLOWED = {
    # state machine execution logs (Logging in template.yaml)
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_cfn_lint_passes_with_no_warnings():
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(ROOT / "template.yaml")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_role_grants_a_wildcard_resource_it_was_not_told_about(cfn):
    offenders = []
    for role_id, role in resources_of(cfn, "AWS::IAM::Role").items():
        for name, statement in statements(role):
            if statement.get("Effect") != "Allow":
                continue
            if "*" in as_list(statement.get("Resource")):
                unexpected = set(as_list(statement["Action"])) - WILDCARD_ALLOWED
                if unexpected:
                    offenders.append((role_id, name, sorted(unexpected)))
            offenders += [(role_id, name, a) for a in as_list(statement.get("Action")) if a.endswith(":*") or a == "*"]
    assert offenders == []


# API Gateway's account-wide logging role (ApiGatewayCloudWatchRole=true): AWS's policy for it, as any other
# API of the account may log through the same role
API_GATEWAY_LOGGING = {
    "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}


def test_roles_carry_only_the_basic_managed_policies(cfn):
    allowed = set(MANAGED_POLICIES.values())
    for role_id, role in resources_of(cfn, "AWS::IAM::Role").items():
        if role_id == "ApiGatewayLoggingRole":
            assert role["Properties"]["ManagedPolicyArns"] == [API_GATEWAY_LOGGING]
            assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
                "Service": "apigateway.amazonaws.com"
            }
            assert "Policies" not in role["Properties"]
            continue
        assert set(role["Properties"].get("ManagedPolicyArns", [])) <= allowed, role_id


def test_the_import_step_cannot_touch_the_tasks_of_no_one_else_nor_unrelated_buckets(cfn):
    role = cfn["Resources"]["ImportToStoreFunctionRole"]
    buckets = {
        str(resource)
        for _, statement in statements(role)
        if any(a.startswith("s3:") for a in as_list(statement["Action"]))
        for resource in as_list(statement.get("Resource"))
    }
    assert buckets and all("StagingBucket" in b or "StoreBucket" in b for b in buckets)


def test_delete_staging_may_only_touch_the_staging_bucket(cfn):
    role = cfn["Resources"]["DeleteStagingFunctionRole"]
    actions = {a for _, statement in statements(role) for a in as_list(statement["Action"])}
    assert not any(a.startswith("dynamodb:") for a in actions)


def test_the_upload_consumer_may_receive_from_the_upload_queue_only(cfn):
    role = cfn["Resources"]["OnUploadFunctionRole"]
    assert role["Properties"].get("ManagedPolicyArns", []) == [MANAGED_POLICIES["AWSLambdaBasicExecutionRole"]] + [
        MANAGED_POLICIES["AWSXrayWriteOnlyAccess"]
    ]
    sqs = [
        statement
        for _, statement in statements(role)
        if any(a.startswith("sqs:") for a in as_list(statement["Action"]))
    ]
    assert sqs and all(
        resource
        == {
            "Fn::Sub": [
                "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
                {"queueName": {"Fn::GetAtt": ["UploadQueue", "QueueName"]}},
            ]
        }
        for statement in sqs
        for resource in as_list(statement["Resource"])
    )
    [mapping] = resources_of(cfn, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
    assert mapping["Properties"]["FunctionName"] == {"Ref": "OnUploadFunction"}


@pytest.mark.parametrize("bucket", ["StagingBucket", "StoreBucket"])
def test_buckets_block_public_access_and_encrypt(cfn, bucket):
    properties = cfn["Resources"][bucket]["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert properties["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("bucket", ["StagingBucket", "StoreBucket"])
def test_buckets_refuse_requests_without_tls(cfn, bucket):
    policies = [
        p for p in resources_of(cfn, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    assert len(policies) == 1
    [statement] = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_store_is_versioned_and_retained(cfn):
    store = cfn["Resources"]["StoreBucket"]
    assert store["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert store["DeletionPolicy"] == "Retain"


def test_staging_expires_abandoned_uploads_and_old_staged_data(cfn):
    rules = cfn["Resources"]["StagingBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    assert any(r.get("ExpirationInDays") == {"Ref": "StagingExpiryDays"} for r in rules)


@pytest.mark.parametrize("table", ["ImagesTable", "TasksTable", "MetadefsTable"])
def test_tables_have_point_in_time_recovery_encryption_and_are_retained(cfn, table):
    resource = cfn["Resources"][table]
    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert resource["DeletionPolicy"] == "Retain"


def test_the_state_machine_logs_and_traces(cfn):
    [machine] = resources_of(cfn, "AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ERROR"


def test_functions_log_json_to_a_retained_log_group_and_trace(cfn):
    for function_id, function in resources_of(cfn, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["LoggingConfig"]["LogFormat"] == "JSON", function_id
        assert properties["TracingConfig"] == {"Mode": "Active"}, function_id
    assert cfn["Resources"]["FunctionLogs"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_alarms_watch_failed_executions_and_function_errors(cfn):
    alarms = resources_of(cfn, "AWS::CloudWatch::Alarm").values()
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms}
    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/Lambda", "Errors"),
    } <= metrics


def test_operator_parameters_have_safe_defaults(cfn):
    parameters = cfn["Parameters"]
    for name in parameters:
        assert "Default" in parameters[name], name  # `sam deploy` works with no overrides
    # no token works on a fresh stack until the operator issues one (never the development token file)
    assert parameters["TokenBackend"]["Default"] == "dynamodb"
    assert set(parameters["TokenBackend"]["AllowedValues"]) == {"dynamodb", "keystone", "token_file"}
    assert parameters["KeystoneUrl"]["Default"] == ""
    assert parameters["StageName"]["Default"] and parameters["StagingExpiryDays"]["Default"] >= 1
    assert parameters["LogRetentionDays"]["Default"] in parameters["LogRetentionDays"]["AllowedValues"]


def test_the_authorizer_takes_its_token_backend_and_keystone_url_from_the_parameters(cfn):
    variables = cfn["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["IDENTITY_BACKEND"] == {"Ref": "TokenBackend"}
    assert variables["KEYSTONE_AUTH_URL"] == {"Ref": "KeystoneUrl"}


def test_every_function_writes_its_metrics_to_the_operators_namespace(cfn):
    assert cfn["Parameters"]["MetricsNamespace"]["Default"] == "ImageImport"
    for function_id, function in resources_of(cfn, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}, function_id


def test_sam_deploy_needs_no_questions():
    # `sam build && sam deploy` (docs/deployment.md's deploy) reads its answers from samconfig.toml
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["default"]["global"]["parameters"]["stack_name"]
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True  # an operator sees the change set before it is applied


# ---------------------------------------------------------------- least privilege, by action
# Exactly what each function's code path calls (boto3 in adapters/), by role. HeadObject needs
# s3:GetObject, and s3:ListBucket on the bucket so that a missing key answers 404 (not 403).
_ITEM_RW = {"dynamodb:GetItem", "dynamodb:PutItem"}
_SQS_POLLER = {
    "sqs:ChangeMessageVisibility",
    "sqs:ChangeMessageVisibilityBatch",
    "sqs:DeleteMessage",
    "sqs:DeleteMessageBatch",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
}
_EVENTS = {"events:PutEvents"}  # the lifecycle events, on the stack's bus only
# an image write that moves its owner's quota counters updates their row in the same transaction
_COUNTERS = {"dynamodb:UpdateItem"}
# the Keystone service user's password (use_keystone_limits: the quota checks read Keystone's limits),
# each only when a template parameter names where it is kept
_KEYSTONE_PASSWORD = {"secretsmanager:GetSecretValue", "ssm:GetParameter"}
EXPECTED_ACTIONS = {
    # the Keystone password's secret or parameter, each only when a template parameter names it
    "AuthorizerFunctionRole": {"dynamodb:GetItem", "secretsmanager:GetSecretValue", "ssm:GetParameter"},
    "ApiFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | _KEYSTONE_PASSWORD
    | {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem"}
    | {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    | {"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "states:StartExecution"}
    | {"dynamodb:BatchWriteItem"},  # the metadefs API deletes a namespace's records in batches
    "OnUploadFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | _KEYSTONE_PASSWORD
    | {"dynamodb:Query", "s3:ListBucket", "s3:GetObject", "s3:DeleteObject", "states:StartExecution"}
    | {"s3:PutObject", "s3:AbortMultipartUpload"}
    | _SQS_POLLER,
    "WebDownloadFunctionRole": _EVENTS
    | _ITEM_RW
    | {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:GetObject"},
    "VerifyStagingFunctionRole": _EVENTS | _ITEM_RW | {"s3:ListBucket", "s3:GetObject"},
    "ImportToStoreFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts"}
    | {"s3:ListBucket", "s3:ListBucketMultipartUploads"},
    "DeleteStagingFunctionRole": {"s3:DeleteObject"},
    # multi-store: what a failed copy into a store left is removed at completion
    "CompleteImportFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | {"s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"},
    "RevertImportFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | {"s3:ListBucket", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"},
    "SweeperFunctionRole": _EVENTS
    | _ITEM_RW
    | _COUNTERS
    | {"dynamodb:Query", "dynamodb:BatchGetItem"}  # candidates by status index, images by id
    | {"dynamodb:Scan"}  # of the sparse by-usage index only: the projects whose counters are repaired
    | {"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetObject"}
    | {"s3:DeleteObject", "s3:AbortMultipartUpload", "states:DescribeExecution"},
    # a plugin works as a session of a role scoped to its import (tests/infra/test_plugin_scope_template.py)
    "NoOpPluginFunctionRole": {"sts:AssumeRole", "sts:TagSession"},
    "InjectImageMetadataPluginFunctionRole": {"sts:AssumeRole", "sts:TagSession"},
}
# settings of the buckets and tables (lifecycle rules could expire the retained store), data
# versions (the retained copies), table deletion: no function needs any of them
NEVER = ("s3:PutLifecycleConfiguration", "s3:PutBucket", "s3:DeleteBucket", "s3:DeleteObjectVersion")
NEVER += ("s3:PutObjectVersion", "s3:PutObjectAcl", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:Create")


def allowed_actions(role: dict) -> set[str]:
    return {a for _, s in statements(role) if s.get("Effect") == "Allow" for a in as_list(s["Action"])}


def test_each_function_may_do_exactly_what_its_code_calls(cfn):
    actual = {role_id: allowed_actions(role) for role_id, role in function_roles(cfn).items()}
    assert actual == EXPECTED_ACTIONS


def test_no_function_may_change_bucket_or_table_settings_nor_destroy_retained_versions(cfn):
    offenders = [
        (role_id, action)
        for role_id, role in function_roles(cfn).items()
        for action in allowed_actions(role)
        if action.startswith(NEVER)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "prefix_of_bucket",
    [
        ("StagingBucket", ("/staging/*", "/uploads/*", "/web-download/*", "/plugin-data/*")),
        ("StoreBucket", ("/images/*",)),
    ],
)
def test_object_actions_name_the_services_prefixes_only_the_sweeper_sweeps_whole_buckets(cfn, prefix_of_bucket):
    bucket, prefixes = prefix_of_bucket
    for role_id, role in function_roles(cfn).items():
        for _, statement in statements(role):
            for resource in _resources(statement):
                if bucket not in resource or "Arn}/" not in resource:
                    continue  # bucket-level (ListBucket) or another resource
                if resource.endswith("Arn}/*"):  # the whole bucket: the collector of unreferenced objects only
                    assert role_id == "SweeperFunctionRole", (role_id, resource)
                    assert set(as_list(statement["Action"])) <= {"s3:DeleteObject", "s3:AbortMultipartUpload"}
                else:
                    assert resource.endswith(prefixes), (role_id, resource)


def test_only_the_import_writes_the_store_and_only_those_completing_uploads_list_parts(cfn):
    writers, part_listers = set(), set()
    for role_id, role in function_roles(cfn).items():
        for _, statement in statements(role):
            actions = set(as_list(statement["Action"]))
            if "s3:PutObject" in actions and any("StoreBucket" in r for r in _resources(statement)):
                writers.add(role_id)
            if "s3:ListMultipartUploadParts" in actions:
                part_listers.add(role_id)
    assert writers == {"ImportToStoreFunctionRole", "ApiFunctionRole"}  # the import; PUT /file
    # the API completes direct uploads; web-download and the store copy complete their own uploads in passes
    assert part_listers == {"ApiFunctionRole", "WebDownloadFunctionRole", "ImportToStoreFunctionRole"}


# ---------------------------------------------------------------- multi-store: the further stores' buckets
def _conditional_statements(role: dict) -> list[dict]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        if "Fn::If" in policy
        for statement in policy["Fn::If"][1]["PolicyDocument"]["Statement"]
    ]


def test_the_further_stores_buckets_are_granted_only_under_their_parameter_and_only_their_images(cfn):
    assert cfn["Conditions"]["HasStoreBuckets"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "StoreBucketArns"}]}, ""]}]
    }
    assert cfn["Parameters"]["StoreBucketArns"]["Default"] == ""  # one store unless the operator names more
    granted = {}
    for role_id, role in function_roles(cfn).items():
        for policy in role["Properties"].get("Policies", []):
            if "Fn::If" in policy:
                condition, _, otherwise = policy["Fn::If"]
                assert (condition, otherwise) == ("HasStoreBuckets", {"Ref": "AWS::NoValue"})
        for statement in _conditional_statements(role):
            granted.setdefault(role_id, []).append(statement)
    # the functions that move (import), serve and write (API), and remove (complete, revert, sweeper) store data
    assert set(granted) == {
        "ApiFunctionRole",
        "ImportToStoreFunctionRole",
        "CompleteImportFunctionRole",
        "RevertImportFunctionRole",
        "SweeperFunctionRole",
    }
    objects = {
        "Fn::Split": [
            ",",
            {"Fn::Sub": ["${Arns}/images/*", {"Arns": {"Fn::Join": ["/images/*,", {"Ref": "StoreBucketArns"}]}}]},
        ]
    }
    for role_id, statements_of_role in granted.items():
        for statement in statements_of_role:
            actions = set(as_list(statement["Action"]))
            if actions & {"s3:ListBucket", "s3:ListBucketMultipartUploads"}:
                assert statement["Resource"] == {"Ref": "StoreBucketArns"} and actions <= {
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                }
            else:
                assert statement["Resource"] == objects, role_id  # images/* of exactly those buckets


def test_the_store_bucket_arns_resolve_to_each_buckets_images_and_nothing_without_the_parameter(cfn):
    """CloudFormation's join-then-split, resolved: each ARN of StoreBucketArns becomes <arn>/images/*."""
    from image_import_dev.local.template import Resolver

    role = cfn["Resources"]["ImportToStoreFunctionRole"]
    (conditional,) = [p for p in role["Properties"]["Policies"] if "Fn::If" in p]
    arns = "arn:aws:s3:::cheap,arn:aws:s3:::edge"
    resolver = Resolver(cfn, stack_name="t", region="us-east-1", account_id="1", parameters={"StoreBucketArns": arns})
    policy = resolver.resolve(conditional)
    resources = [s["Resource"] for s in policy["PolicyDocument"]["Statement"]]
    assert resources == [
        ["arn:aws:s3:::cheap/images/*", "arn:aws:s3:::edge/images/*"],
        ["arn:aws:s3:::cheap", "arn:aws:s3:::edge"],
    ]
    without = Resolver(cfn, stack_name="t", region="us-east-1", account_id="1", parameters={})
    assert without.condition("HasStoreBuckets") is False

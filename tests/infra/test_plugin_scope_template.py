"""What an import's plugin may touch (issue 21, low): its function's own role may only assume a role whose
every grant is confined to the session's tags (ImageId, TaskId, ImageOwner), so a buggy plugin cannot
write another image's record, another project's counters or another import's data."""

from __future__ import annotations

import pytest

from tests.support.infra import translate
from tests.support.template import _resources, as_list, statements

DATA_CHAIN = ["image_decompression", "image_conversion", "inject_image_metadata"]
ASSUME = ["sts:AssumeRole", "sts:TagSession"]  # TagSession: the session's tags are what scopes it
IMAGE, TASK, OWNER = "${aws:PrincipalTag/ImageId}", "${aws:PrincipalTag/TaskId}", "${aws:PrincipalTag/ImageOwner}"
# the import's data, wherever it is: PUT /stage, a direct upload's copy, web-download, this task's replacements
READS = [
    "${StagingBucket.Arn}/staging/${!aws:PrincipalTag/ImageId}",
    "${StagingBucket.Arn}/staging/${!aws:PrincipalTag/ImageId}.upload.*",
    "${StagingBucket.Arn}/web-download/${!aws:PrincipalTag/ImageId}",
    "${StagingBucket.Arn}/plugin-data/${!aws:PrincipalTag/ImageId}.${!aws:PrincipalTag/TaskId}.*",
]
RECORDS = {
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    "Resource": {"Fn::GetAtt": ["ImagesTable", "Arn"]},
    # every key a request touches is the image's, or its owner's counters (moved in the image's transaction)
    "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [IMAGE, f"usage/{OWNER}"]}},
}


@pytest.fixture(scope="module")
def cfn() -> dict:
    return translate()


@pytest.fixture(scope="module")
def data_cfn() -> dict:
    return translate(DATA_CHAIN)


def role_statements(cfn: dict, role_id: str) -> list[dict]:
    return [statement for _, statement in statements(cfn["Resources"][role_id])]


@pytest.mark.parametrize(
    ("chain", "function", "scoped_role"),
    [
        ("shipped", "NoOpPluginFunction", "PluginImageRole"),
        ("shipped", "InjectImageMetadataPluginFunction", "PluginImageRole"),
        ("data", "ImageDecompressionPluginFunction", "DataPluginImageRole"),
        ("data", "ImageConversionPluginFunction", "DataPluginImageRole"),
        ("data", "InjectImageMetadataPluginFunction", "PluginImageRole"),
    ],
)
def test_a_plugin_functions_own_role_may_only_assume_the_role_scoped_to_its_import(
    cfn, data_cfn, chain, function, scoped_role
):
    template = cfn if chain == "shipped" else data_cfn
    arn = {"Fn::GetAtt": [scoped_role, "Arn"]}

    assert role_statements(template, f"{function}Role") == [{"Effect": "Allow", "Action": ASSUME, "Resource": arn}]
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    # both on every plugin function (the local stack shares one environment); the plugin's declaration picks
    assert variables["PLUGIN_ROLE_ARN"] == {"Fn::GetAtt": ["PluginImageRole", "Arn"]}
    assert variables["DATA_PLUGIN_ROLE_ARN"] == {"Fn::GetAtt": ["DataPluginImageRole", "Arn"]}


@pytest.mark.parametrize("role_id", ["PluginImageRole", "DataPluginImageRole"])
def test_the_scoped_roles_are_assumed_by_this_accounts_principals_with_session_tags(cfn, role_id):
    properties = cfn["Resources"][role_id]["Properties"]
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": ASSUME,
        }
    ]
    assert "ManagedPolicyArns" not in properties


def test_a_plugins_session_may_change_only_its_images_record_and_read_only_its_imports_data(cfn):
    records, reads = role_statements(cfn, "PluginImageRole")
    assert records == RECORDS
    assert (reads["Action"], _resources(reads)) == (["s3:GetObject"], READS)


def test_a_data_plugins_session_may_also_write_its_imports_replacements_and_nothing_else(cfn):
    records, reads, writes = role_statements(cfn, "DataPluginImageRole")
    assert records == RECORDS
    assert (reads["Action"], _resources(reads)) == (["s3:GetObject"], READS)
    assert writes["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]  # a multipart upload, aborted on failure
    assert _resources(writes) == [
        "${StagingBucket.Arn}/plugin-data/${!aws:PrincipalTag/ImageId}.${!aws:PrincipalTag/TaskId}.*"
    ]


def test_the_scoped_resources_resolve_to_policy_variables_iam_fills_in_per_session(cfn):
    from image_import_dev.local.template import Resolver

    resolver = Resolver(cfn, stack_name="s", region="eu-west-1", account_id="123456789012", parameters={})
    policy = resolver.resolve(cfn["Resources"]["DataPluginImageRole"]["Properties"]["Policies"][0])
    writes = policy["PolicyDocument"]["Statement"][2]
    bucket = resolver.physical_name("StagingBucket")
    assert writes["Resource"] == f"arn:aws:s3:::{bucket}/plugin-data/{IMAGE}.{TASK}.*"


def test_no_plugin_function_holds_a_table_or_bucket_right_of_its_own(cfn, data_cfn):
    for template in (cfn, data_cfn):
        for role_id in [r for r in template["Resources"] if r.endswith("PluginFunctionRole")]:
            actions = {a for s in role_statements(template, role_id) for a in as_list(s["Action"])}
            assert actions == set(ASSUME), role_id

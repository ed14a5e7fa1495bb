"""The whole stack emits the import metrics an operator graphs: started, succeeded, failed by step, bytes."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.support.config import set_option
from tests.support.metrics_capture import emitted_metrics
from tests.support.stack_state import wait_for_executions


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def run_import(api, stack, data: bytes, **fields) -> tuple[str, dict]:
    image = api.create(**fields)
    assert api.stage(image["id"], data).status == 204
    assert api.import_(image["id"]).status == 202
    [execution] = wait_for_executions(stack)
    return image["id"], execution


def test_a_successful_import_counts_started_succeeded_and_its_bytes(member, stack, capsys):
    capsys.readouterr()
    run_import(member, stack, b"x" * 300_000)
    found = emitted_metrics(capsys.readouterr().out)
    method = {"ImportMethod": "glance-direct"}
    assert ("ImportsStarted", 1.0, method) in found
    assert ("ImportsSucceeded", 1.0, method) in found
    assert ("BytesImported", 300_000.0, method) in found
    assert not [m for m in found if m[0] in ("ImportsFailed", "ImportStepFailures")]


def test_the_workflow_document_records_every_state_that_finished(member, stack):
    _, execution = run_import(member, stack, b"abc")
    output = json.loads(
        boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["output"]
    )
    assert output["steps_done"] == [
        "VerifyStaging",
        "Plugin-no_op",
        "Plugin-inject_image_metadata",
        "ImportToStore",
        "CompleteImport",
        "DeleteStaging",
    ]


def test_a_failure_in_verification_is_counted_against_that_step(member, stack, capsys):
    image = member.create()
    member.stage(image["id"], b"abc")
    boto3.client("s3").delete_object(Bucket=stack.physical_name("StagingBucket"), Key=f"staging/{image['id']}")
    capsys.readouterr()
    member.import_(image["id"])
    wait_for_executions(stack)
    found = emitted_metrics(capsys.readouterr().out)
    assert ("ImportsFailed", 1.0, {"ImportMethod": "glance-direct"}) in found
    assert ("ImportStepFailures", 1.0, {"Step": "VerifyStaging"}) in found
    assert not [m for m in found if m[0] == "ImportsSucceeded"]


class TestAFailingPlugin:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(
            config_dir,
            "glance-image-import.conf",
            "image_import_opts",
            "image_import_plugins",
            "[no_op, stamp_import_method, inject_image_metadata]",
        )
        return config_dir

    def test_the_failure_is_counted_against_the_plugin(self, member, stack, capsys):
        capsys.readouterr()
        run_import(member, stack, b"abc", fail_in_plugin="yes")
        found = emitted_metrics(capsys.readouterr().out)
        assert ("ImportsFailed", 1.0, {"ImportMethod": "glance-direct"}) in found
        assert [m for m in found if m[0] == "ImportStepFailures"] == [
            ("ImportStepFailures", 1.0, {"Step": "Plugin-stamp_import_method"})
        ]
        assert not [m for m in found if m[0] in ("ImportsSucceeded", "BytesImported")]

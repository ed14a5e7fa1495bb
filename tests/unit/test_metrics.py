"""Import metrics: names, units, dimensions and namespace of the lines CloudWatch turns into metrics."""

from __future__ import annotations

import json

import pytest

from image_import import metrics
from image_import.models import ImportJob, RequestContext
from image_import.steps.chain import chain_of
from tests.support.metrics_capture import emitted_metrics


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "image-import")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "GlanceImports")


def test_a_started_import_counts_by_method(capsys):
    metrics.import_started("web-download")
    assert emitted_metrics(capsys.readouterr().out) == [("ImportsStarted", 1.0, {"ImportMethod": "web-download"})]


def test_a_succeeded_import_counts_and_adds_its_bytes(capsys):
    metrics.import_succeeded("glance-direct", 1048576)
    assert emitted_metrics(capsys.readouterr().out) == [
        ("ImportsSucceeded", 1.0, {"ImportMethod": "glance-direct"}),
        ("BytesImported", 1048576.0, {"ImportMethod": "glance-direct"}),
    ]


def test_a_failed_import_counts_by_method_and_by_the_step_it_failed_in(capsys):
    metrics.import_failed("glance-direct", "Plugin-inject_image_metadata")
    assert emitted_metrics(capsys.readouterr().out) == [
        ("ImportsFailed", 1.0, {"ImportMethod": "glance-direct"}),
        ("ImportStepFailures", 1.0, {"Step": "Plugin-inject_image_metadata"}),
    ]


def test_lines_carry_the_namespace_the_unit_and_the_service(capsys):
    metrics.import_succeeded("glance-direct", 5)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    directives = [d["_aws"]["CloudWatchMetrics"][0] for d in documents]
    assert {d["Namespace"] for d in directives} == {"GlanceImports"}
    assert [d["Metrics"][0]["Unit"] for d in directives] == ["Count", "Bytes"]
    assert all(doc["service"] == "image-import" for doc in documents)


def test_the_switch_silences_them(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.import_started("glance-direct")
    assert emitted_metrics(capsys.readouterr().out) == []


def test_a_metric_that_cannot_be_written_does_not_fail_the_caller(capsys, monkeypatch):
    import aws_lambda_powertools.metrics as powertools_metrics

    def broken(**_):
        raise RuntimeError("stdout is gone")

    monkeypatch.setattr(powertools_metrics, "single_metric", broken)
    metrics.import_started("glance-direct")  # no exception
    assert emitted_metrics(capsys.readouterr().out) == []


def job(method: str = "glance-direct", **fields) -> ImportJob:
    context = RequestContext(user_id="u", project_id="p", roles=[], request_id="r")
    return ImportJob(image_id="i", task_id="t", method=method, context=context, staging_key="staging/i", **fields)


PLUGINS = ("no_op", "inject_image_metadata")


@pytest.mark.parametrize(
    ("method", "done", "failed_in"),
    [
        ("glance-direct", [], "VerifyStaging"),
        ("web-download", [], "WebDownload"),
        ("web-download", ["WebDownload"], "VerifyStaging"),
        ("glance-direct", ["VerifyStaging"], "Plugin-no_op"),
        ("glance-direct", ["VerifyStaging", "Plugin-no_op"], "Plugin-inject_image_metadata"),
        ("glance-direct", ["VerifyStaging", "Plugin-no_op", "Plugin-inject_image_metadata"], "ImportToStore"),
        (
            "glance-direct",
            ["VerifyStaging", "Plugin-no_op", "Plugin-inject_image_metadata", "ImportToStore"],
            "CompleteImport",
        ),
    ],
)
def test_the_failed_state_is_the_first_of_the_chain_that_did_not_finish(method, done, failed_in):
    assert chain_of(PLUGINS).failed_state(job(method, steps_done=done)) == failed_in


def test_a_failed_step_named_by_the_sweeper_wins():
    assert chain_of(PLUGINS).failed_state(job(), "LostExecution") == "LostExecution"

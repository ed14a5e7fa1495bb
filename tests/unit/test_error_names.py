"""The error names the state machine retries on, and the ones its revert reports as they are, come from the
exception classes (errors.py StepFailure): Lambda reports a raised exception by its class name, so a
name typed anywhere else could drift from the class it means."""

from __future__ import annotations

import gc
import json

import pytest
from image_import_dev.render import definition

from image_import import errors
from image_import.errors import ImportFailed, PassInterrupted, StepFailure, TaskAborted
from image_import.models.job import StepError
from image_import.workflow.revert import failure_reason
from tests.support.paths import ROOT

AWS_PREFIXES = ("States.", "Lambda.", "Sandbox.")


def rules(states: dict):
    """Every Retry and Catch rule of ``states``, a Map's iteration included."""
    for state in states.values():
        yield from state.get("Retry", [])
        yield from state.get("Catch", [])
        if state["Type"] == "Map":
            yield from rules(state["ItemProcessor"]["States"])


def domain_names(asl: dict) -> set[str]:
    names = {name for rule in rules(asl["States"]) for name in rule["ErrorEquals"]}
    return {name for name in names if not name.startswith(AWS_PREFIXES)}


def test_each_error_name_is_its_class_name_which_lambda_reports():
    for cls in errors.step_failures():
        assert cls.error_name == cls.__name__ == type(cls("x")).__name__


@pytest.mark.parametrize("multi_store", [False, True])
def test_the_rendered_retries_name_exactly_the_retried_classes(multi_store):
    asl = definition(["inject_image_metadata", "image_conversion"], multi_store)
    assert domain_names(asl) == {cls.error_name for cls in errors.step_failures() if cls.retried}
    assert domain_names(asl) == {PassInterrupted.error_name}


def test_the_committed_state_machine_names_exactly_the_retried_classes():
    asl = json.loads((ROOT / "statemachine" / "import.asl.json").read_text())
    assert domain_names(asl) == set(errors.retried_error_names())
    assert asl["States"]["ImportFailed"]["Error"] == ImportFailed.error_name


def test_a_class_marked_retried_is_retried_by_the_rendered_state_machine():
    class StoreThrottled(StepFailure):  # a retried error the next step may add
        retried = True

    try:
        assert "StoreThrottled" in domain_names(definition([]))
    finally:
        del StoreThrottled
        gc.collect()  # __subclasses__ holds weak references: the class is gone for the other tests
    assert "StoreThrottled" not in errors.retried_error_names()


@pytest.mark.parametrize("cls", [ImportFailed, TaskAborted, PassInterrupted])
def test_the_revert_reports_an_actionable_error_by_its_message(cls):
    error = StepError(Error=cls.error_name, Cause=json.dumps({"errorMessage": "the store went away"}))
    assert failure_reason_of(error) == "Import failed: the store went away"


def test_any_other_error_is_reported_as_internal():
    error = StepError(Error="KeyError", Cause=json.dumps({"errorMessage": "'size'"}))
    assert failure_reason_of(error).startswith("Import failed due to an internal error (KeyError")


def failure_reason_of(error: StepError) -> str:
    from image_import.models import ImportJob, RequestContext

    job = ImportJob(image_id="i", task_id="t", context=RequestContext(), staging_key="staging/i", error=error)
    return failure_reason(job)

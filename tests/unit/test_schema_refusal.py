"""One schema-to-400 (errors.check_schema): Glance's InvalidObject message, and each API that validates a body
against a JSON schema answers through it with its own schema's name (and, for images and tasks, the path)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from image_import.errors import BadRequest, check_schema

SCHEMA = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}}


def refusal(call) -> str:
    with pytest.raises(BadRequest) as refused:
        call()
    assert refused.value.status == 400
    return refused.value.explanation


def test_a_document_the_schema_refuses_is_a_400_naming_the_schema_and_jsonschemas_reason():
    message = refusal(lambda: check_schema({"a": [1, "x"]}, SCHEMA, "thing"))
    assert message == "Provided object does not match schema 'thing': 'x' is not of type 'integer'"


def test_with_path_the_400_says_where_in_the_document_it_failed():
    message = refusal(lambda: check_schema({"a": [1, "x"]}, SCHEMA, "thing", with_path=True))
    assert message == "Provided object does not match schema 'thing': 'x' is not of type 'integer' (at 'a/1')"


def test_a_failure_at_the_top_of_the_document_names_no_path():
    message = refusal(lambda: check_schema([], SCHEMA, "thing", with_path=True))
    assert message == "Provided object does not match schema 'thing': [] is not of type 'object'"


def test_a_document_the_schema_accepts_passes():
    check_schema({"a": [1, 2]}, SCHEMA, "thing", with_path=True)


# ---------------------------------------------------------------- the four sites
def test_an_image_body_the_image_schema_refuses_is_a_400_with_its_path(settings):
    from image_import.images.catalog import validate_against_schema

    message = refusal(lambda: validate_against_schema({"tags": ["ok", 5]}, settings))
    assert message == "Provided object does not match schema 'image': 5 is not of type 'string' (at 'tags/1')"


def test_a_task_body_the_task_schema_refuses_is_a_400_with_its_path():
    from image_import.tasks.catalog import _validate_body

    message = refusal(lambda: _validate_body({"type": "import", "input": "x"}))
    assert message == "Provided object does not match schema 'task': 'x' is not of type 'null', 'object' (at 'input')"


def test_validation_data_the_schema_refuses_is_a_400_without_a_path():
    from image_import.steps.web_download import validation_data

    body = {"method": {"name": "web-download", "uri": "https://example.com/x", "validation_data": {"os_hash_algo": 1}}}
    message = refusal(lambda: validation_data(body))
    assert message.startswith("Provided object does not match schema 'validation_data': ")
    assert "(at " not in message


def test_a_metadefs_body_the_schema_refuses_is_a_400_naming_its_schema_without_a_path(settings):
    from image_import.metadefs.namespaces import create_namespace
    from image_import.models import RequestContext
    from tests.support.fakes import fake_ports

    admin = RequestContext(user_id="admin", project_id="admin", roles=["admin"], is_admin=True)
    body = {"namespace": "n", "objects": [{"name": 5}]}
    message = refusal(lambda: create_namespace(admin, body, settings, fake_ports()))
    assert message == "Provided object does not match schema 'namespace': 5 is not of type 'string'"


def test_the_api_handlers_cold_start_imports_no_jsonschema():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, image_import.api.app; print('jsonschema' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "False"

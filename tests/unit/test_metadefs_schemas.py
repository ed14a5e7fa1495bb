"""The metadata-definition schemas served at /v2/schemas/metadefs/<name> are exactly what they were when the
property-definitions block was written out six times (captured then into tests/fixtures/metadef-schemas.json):
defining that block once changes no byte and no key order of what clients such as Horizon render."""

from __future__ import annotations

import json

import pytest

from image_import.metadefs.schemas import SCHEMAS
from tests.support.paths import ROOT

SERVED = json.loads((ROOT / "tests" / "fixtures" / "metadef-schemas.json").read_text())


def test_the_same_ten_schemas_are_served():
    assert list(SCHEMAS) == list(SERVED)


@pytest.mark.parametrize("name", sorted(SERVED))
def test_a_served_schema_is_unchanged_to_the_byte_and_key_order(name):
    assert json.dumps(SCHEMAS[name]) == json.dumps(SERVED[name])


def test_a_change_to_one_schema_leaves_the_others_as_they_were():
    """The shared block is copied into each schema, not shared by reference: a caller that edits one
    served document cannot change another."""
    required = SCHEMAS["object"]["definitions"]["property"]["additionalProperties"]["required"]
    required.append("x")
    try:
        assert json.dumps(SCHEMAS["namespace"]) == json.dumps(SERVED["namespace"])
        assert json.dumps(SCHEMAS["namespaces"]) == json.dumps(SERVED["namespaces"])
    finally:
        required.pop()

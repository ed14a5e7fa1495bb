"""docs/openapi.yaml describes exactly the API the resolver serves, so the schema fuzzer cannot drift from it."""

from __future__ import annotations

import re

import yaml

from image_import.api.app import app
from image_import.images.schemas import image_schema
from image_import.settings.model import Settings
from tests.support.paths import ROOT

DOCUMENT = ROOT / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch"}


def _document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def test_the_document_names_every_route_of_the_api_and_no_other():
    routes = {(r.method.upper(), re.sub(r"<(\w+)>", r"{\1}", r.path)) for r in app._static_routes + app._dynamic_routes}
    documented = {
        (method.upper(), path) for path, item in _document()["paths"].items() for method in item if method in METHODS
    }
    assert documented == routes


def test_the_image_create_body_is_the_served_image_schema():
    defaults = Settings(config_dir=ROOT / "config")
    served = image_schema(defaults.disk_formats, defaults.container_formats)
    body = _document()["components"]["schemas"]["ImageCreate"]
    assert body["additionalProperties"] == served["additionalProperties"]
    for name, field in body["properties"].items():
        expected = served["properties"][name]
        kinds = expected["type"] if isinstance(expected["type"], list) else [expected["type"]]
        assert field["type"] in kinds and field.get("nullable", False) == ("null" in kinds), name
        if "enum" in expected:
            assert field["enum"] == [v for v in expected["enum"] if v is not None], name
        for key in ("maxLength", "pattern", "items"):
            assert field.get(key) == expected.get(key), (name, key)
    writable = {n for n, f in served["properties"].items() if not f.get("readOnly")} - {"locations"}
    assert set(body["properties"]) == writable

"""Errors come back in Glance's (WebOb's) format, chosen by the Accept header."""

from __future__ import annotations

import json

from image_import.api.errors import render_error
from image_import.errors import Conflict


def test_json_clients_get_flat_json_with_message_code_and_title():
    content_type, body = render_error(Conflict("Image has active task"), "application/json")
    assert content_type == "application/json"
    assert json.loads(body) == {"message": "Image has active task", "code": "409 Conflict", "title": "Conflict"}


def test_glanceclient_style_accept_any_gets_an_html_page_with_the_explanation():
    content_type, body = render_error(Conflict("Image has <active> task"), "*/*")
    assert content_type.startswith("text/html")
    assert "<title>409 Conflict</title>" in body
    assert "Image has &lt;active&gt; task" in body


def test_no_accept_header_gets_html_like_webob():
    assert render_error(Conflict("x"), None)[0].startswith("text/html")


def test_other_media_types_get_plain_text():
    content_type, body = render_error(Conflict("busy"), "text/plain")
    assert content_type.startswith("text/plain")
    assert body.startswith("409 Conflict\n\nbusy")


def test_every_error_the_package_declares_is_raised_or_caught_somewhere_in_it():
    import inspect
    import re

    from image_import import errors
    from tests.support.paths import ROOT

    package = ROOT / "layers" / "image_import" / "src" / "image_import"
    code = "\n".join(p.read_text() for p in package.rglob("*.py") if p != package / "errors.py")
    classes = {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value) and value.__module__ == errors.__name__
    }
    # a base class is used through the errors that derive from it (StepFailure: the steps' failures)
    bases = {base.__name__ for value in classes.values() for base in value.__mro__[1:]}
    assert [name for name in classes if name not in bases and not re.search(rf"\b{name}\b", code)] == []

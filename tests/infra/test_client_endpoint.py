"""The deployed image endpoint (output ImageApiUrl) as python-glanceclient reads it."""

from __future__ import annotations

import pytest
from glanceclient.common.utils import strip_version
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import ROOT


def default_endpoint() -> str:
    stage = yaml_parse((ROOT / "template.yaml").read_text())["Parameters"]["StageName"]["Default"]
    return f"https://abcdef1234.execute-api.us-east-1.amazonaws.com/{stage}"


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="known bug: the default StageName 'v2api' starts like a version, so glanceclient's strip_version "
    "fails ('could not convert string to float: 2api') and `glance --os-image-url <ImageApiUrl>` cannot start; "
    "the fix belongs in template.yaml (a stage name not matching v<digit>, e.g. 'image'); then drop this marker",
)
def test_glanceclient_keeps_the_default_endpoint_as_given():
    url = default_endpoint()
    # glanceclient strips a trailing /v<N> (taking it for the API version); a stage name must not look like one
    assert strip_version(url) == (url, None)

"""The deployed image endpoint (output ImageApiUrl) as python-glanceclient reads it."""

from __future__ import annotations

import pytest
from glanceclient.common.utils import strip_version
from samtranslator.yaml_helper import yaml_parse

from tests.support.paths import ROOT


def default_endpoint() -> str:
    stage = yaml_parse((ROOT / "template.yaml").read_text())["Parameters"]["StageName"]["Default"]
    return f"https://abcdef1234.execute-api.us-east-1.amazonaws.com/{stage}"


def test_glanceclient_keeps_the_default_endpoint_as_given():
    url = default_endpoint()
    # glanceclient strips a trailing /v<N> (taking it for the API version); a stage name must not look like one
    assert strip_version(url) == (url, None)


@pytest.mark.parametrize("stage", ["v2api", "V1", "v2"])
def test_the_template_refuses_a_stage_name_a_client_would_take_for_a_version(stage):
    import re

    pattern = yaml_parse((ROOT / "template.yaml").read_text())["Parameters"]["StageName"]["AllowedPattern"]
    assert re.fullmatch(pattern, stage) is None
    assert re.fullmatch(pattern, "image") and re.fullmatch(pattern, "prod")

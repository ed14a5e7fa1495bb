"""The local stack's own tests: the fixture SAM app, and the Lambda invoke hooks installed in botocore."""

from __future__ import annotations

import botocore.handlers
from image_import_dev.local.runtime import INVOKE_EVENT

from tests.support.paths import ROOT

FIXTURES = ROOT / "tests" / "local" / "fixtures"
TEMPLATE = FIXTURES / "template.yaml"


def invoke_hooks() -> list:
    return [h for h in botocore.handlers.BUILTIN_HANDLERS if h[0] == INVOKE_EVENT]

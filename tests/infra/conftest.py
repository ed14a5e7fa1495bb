"""The template as CloudFormation sees it: translated offline with samtranslator (no AWS account)."""

from __future__ import annotations

import pytest

from tests.support.infra import MANAGED_POLICIES, _ManagedPolicies, resources_of, translate  # noqa: F401  (re-exported for tests that still import it from here)
from tests.support.paths import ROOT  # noqa: F401  (re-exported for tests that still import it from here)

# What SAM attaches to every function and traced state machine; both are AWS-managed policies.


@pytest.fixture(scope="module")
def cfn() -> dict:
    return translate()


# the whole-stack fixtures (moto, local stack) of the integration tests
from tests.integration.conftest import (  # noqa: E402,F401
    aws_env,
    stack,
    stack_config,
    stack_events_file,
    stack_large_requests,
    stack_parameters,
)

"""The whole stack's fixtures (tests/integration), for the tests here that run it against a real Keystone."""

from tests.integration.conftest import (  # noqa: F401
    aws_env,
    stack,
    stack_events_file,
    stack_large_requests,
    stack_parameters,
)

"""X-Service-Token through API Gateway and the authorizer: service roles reach the policies."""

from __future__ import annotations

import pytest

from tests.support.api import MEMBER, Api


@pytest.fixture
def stack_config(config_dir):
    with (config_dir / "local-tokens.yaml").open("a") as tokens:
        tokens.write("nova-token:\n  user_id: nova\n  project_id: service\n  roles: [service]\n")
    with (config_dir / "policy.yaml").open("a") as policy:
        policy.write('"add_image": "service_roles:service and service_user_id:nova"\n')
    return config_dir


def test_given_a_member_alone_when_a_service_only_rule_applies_then_403(stack):
    assert Api(stack, MEMBER).call("POST", "/v2/images", {"name": "x"}).status == 403


def test_given_a_member_with_a_service_token_when_a_service_only_rule_applies_then_201(stack):
    reply = Api(stack, MEMBER).call("POST", "/v2/images", {"name": "x"}, headers={"X-Service-Token": "nova-token"})
    assert reply.status == 201, reply.text
    assert reply.json["owner"] == "demo"  # the user's project, not the service's


def test_given_an_invalid_service_token_when_calling_then_401(stack):
    reply = Api(stack, MEMBER).call("GET", "/v2/images", headers={"X-Service-Token": "forged"})
    assert reply.status == 401

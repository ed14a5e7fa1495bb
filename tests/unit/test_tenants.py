"""Tenants stay apart: no project owns nothing; admin is what ``context_is_admin`` says."""

from __future__ import annotations

import pytest

from image_import.errors import Forbidden, NotFound
from image_import.identity.authorizer import authorizer_response, caller_from_authorizer
from image_import.models import Image, RequestContext
from image_import.models.caller import Caller
from image_import.policy import access
from image_import.policy.rules import PolicyEngine, admin_context, image_target
from image_import.settings import load_settings
from image_import.settings.files import load_tokens

ARN = "arn:aws:execute-api:us-east-1:123:api/prod/GET/v2/images"
SYSTEM_ADMIN = RequestContext(user_id="sys", project_id=None, roles=["admin", "member", "reader"])


def image(owner: str | None = "", visibility: str = "private") -> Image:
    return Image(id="00000000-0000-0000-0000-000000000001", owner=owner, visibility=visibility)


def test_given_a_token_without_a_project_then_the_api_reads_back_no_project_not_an_empty_one():
    answer = authorizer_response(Caller("sys", None, ["admin"]), ARN)
    caller = caller_from_authorizer(answer["context"])
    assert caller is not None and caller.project_id is None
    assert RequestContext.of(caller, "req-1").project_id is None


def test_given_an_empty_project_anywhere_then_it_is_no_project():
    assert Caller("u", "", ["member"]).project_id is None
    assert RequestContext(user_id="u", project_id="", roles=["member"]).project_id is None


def test_given_a_token_file_entry_with_a_null_project_then_the_caller_has_no_project(tmp_path):
    path = tmp_path / "local-tokens.yaml"
    path.write_text("t:\n  user_id: sys\n  project_id: null\n  roles: [admin]\n")
    assert load_tokens(path)["t"].project_id is None


@pytest.mark.parametrize("owner", ["", None, "demo"])
@pytest.mark.parametrize("visibility", ["private", "shared", "community", "public"])
def test_given_no_project_then_no_image_is_reachable(settings, owner, visibility):
    with pytest.raises(NotFound):
        access.require_visible(SYSTEM_ADMIN, image(owner, visibility), "x", settings)
    with pytest.raises(NotFound):
        access.authorize(SYSTEM_ADMIN, "delete_image", image(owner, visibility), settings)


def test_given_no_project_then_creating_and_listing_are_403(settings):
    with pytest.raises(Forbidden, match="add_image"):
        access.require_may_create(SYSTEM_ADMIN, None, "private", settings)
    with pytest.raises(Forbidden, match="get_images"):
        access.require_allowed(SYSTEM_ADMIN, "get_images", settings)


@pytest.mark.parametrize("rule", ["", "@", "role:admin", "rule:default"])
def test_given_any_rule_then_a_caller_without_a_project_is_refused(rule):
    engine = PolicyEngine({"get_image": rule, "default": ""})
    assert not engine.allows("get_image", image_target(image("x", "public"), SYSTEM_ADMIN), SYSTEM_ADMIN)
    assert not engine.is_admin(SYSTEM_ADMIN)


def test_given_the_default_rules_then_role_admin_is_admin(settings):
    admin = RequestContext(user_id="a", project_id="p", roles=["Admin"])
    member = RequestContext(user_id="m", project_id="p", roles=["member"])
    assert admin_context(admin, settings).is_admin
    assert not admin_context(member, settings).is_admin
    assert not admin_context(SYSTEM_ADMIN, settings).is_admin


def test_given_context_is_admin_names_a_project_then_an_admin_elsewhere_is_not_admin(config_dir):
    (config_dir / "policy.yaml").write_text('"context_is_admin": "role:admin and project_id:admin"\n')
    settings = load_settings(config_dir)
    elsewhere = admin_context(RequestContext(user_id="a", project_id="alt", roles=["admin"]), settings)
    there = admin_context(RequestContext(user_id="a", project_id="admin", roles=["admin"]), settings)
    assert not elsewhere.is_admin and there.is_admin
    shared = Image(id="00000000-0000-0000-0000-000000000002", owner="demo", visibility="shared")
    assert not access.can_see(elsewhere, shared, settings)
    assert access.can_see(there, shared, settings)


def test_given_a_decided_context_then_the_workflow_input_carries_the_decision(settings):
    admin = admin_context(RequestContext(user_id="a", project_id="p", roles=["admin"]), settings)
    assert RequestContext.model_validate(admin.model_dump(mode="json")).is_admin

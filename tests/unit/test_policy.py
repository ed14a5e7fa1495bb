"""Glance's policy rules through oslo.policy, and Glance's 404-versus-403 answers."""

from __future__ import annotations

import pytest

from image_import.errors import Forbidden, NotFound
from image_import.models import Image, RequestContext
from image_import.policy import access
from image_import.policy.rules import PolicyEngine, image_target
from image_import.settings import load_settings

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"])
READER = RequestContext(user_id="r", project_id="demo", roles=["reader"])
OTHER = RequestContext(user_id="eve", project_id="eve", roles=["member", "reader"])
ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["Admin"], is_admin=True)
NOVA = RequestContext(
    user_id="demo", project_id="demo", roles=["member"], service_roles=["service"], service_user_id="nova-uuid"
)


def image(**kw) -> Image:
    return Image(id="00000000-0000-0000-0000-000000000001", owner="demo", **kw)


def allows(rules: dict, action: str, context: RequestContext, target: dict | None = None) -> bool:
    return PolicyEngine(rules).allows(action, target if target is not None else image_target(image(), context), context)


@pytest.mark.parametrize(
    "action, context, expected",
    [
        ("get_image", MEMBER, True),
        ("get_image", READER, True),
        ("modify_image", MEMBER, True),
        ("modify_image", READER, False),  # readers read, members modify
        ("modify_image", OTHER, False),
        ("modify_image", ADMIN, True),
        ("delete_image", OTHER, False),
        ("publicize_image", MEMBER, False),
        ("publicize_image", ADMIN, True),
        ("communitize_image", MEMBER, True),
        ("tasks_api_access", MEMBER, False),
        ("tasks_api_access", ADMIN, True),
        ("get_task", MEMBER, True),
        ("copy_image", MEMBER, False),
    ],
)
def test_glances_default_rules(action, context, expected):
    assert allows({}, action, context) is expected


@pytest.mark.parametrize(
    "rule, context, expected",
    [
        ("", OTHER, True),
        ("@", OTHER, True),
        ("!", ADMIN, False),
        ("role:admin", ADMIN, True),
        ("role:admin", MEMBER, False),
        ("not role:admin", MEMBER, True),
        ("role:member and role:reader", MEMBER, True),
        ("role:member and role:reader", READER, False),
        ("role:admin or role:member and project_id:%(owner)s", MEMBER, True),  # 'and' binds tighter
        ("role:admin or role:member and project_id:%(owner)s", OTHER, False),
        ("(role:admin or role:member) and project_id:%(owner)s", OTHER, False),
        ("'public':%(visibility)s", OTHER, False),
        ("rule:context_is_admin", ADMIN, True),
        ("rule:context_is_admin", MEMBER, False),
        ("this is not a rule (", ADMIN, False),  # unparsable: deny, as in Glance
    ],
)
def test_operator_rules_parse_and_evaluate_as_in_glance(rule, context, expected):
    assert allows({"modify_image": rule}, "modify_image", context) is expected


def test_the_guides_upload_rule_admits_admins_the_service_user_and_service_roles_only():
    rule = "role:admin or (service_user_id:nova-uuid) or (service_roles:service)"
    assert allows({"upload_image": rule}, "upload_image", ADMIN)
    assert allows({"upload_image": rule}, "upload_image", NOVA)
    assert not allows({"upload_image": rule}, "upload_image", MEMBER)


@pytest.fixture
def rules_in(config_dir):
    def write(text: str):
        (config_dir / "policy.yaml").write_text(text)
        return load_settings(config_dir)

    return write


def test_an_image_the_caller_may_not_see_is_not_found(settings):
    with pytest.raises(NotFound):
        access.require_visible(OTHER, image(visibility="private"), "x", settings)


def test_a_visible_image_the_caller_may_not_change_is_forbidden(settings):
    with pytest.raises(Forbidden):
        access.authorize(OTHER, "modify_image", image(visibility="public"), settings)


def test_refused_action_and_refused_get_image_is_404_not_403(rules_in):
    settings = rules_in('"modify_image": "!"\n"get_image": "!"\n')
    with pytest.raises(NotFound):
        access.authorize(MEMBER, "modify_image", image(), settings)


def test_refused_action_with_get_image_allowed_is_403(rules_in):
    settings = rules_in('"modify_image": "!"\n')
    with pytest.raises(Forbidden):
        access.authorize(MEMBER, "modify_image", image(), settings)


def test_a_policy_file_in_json_is_read_too(config_dir):
    (config_dir / "policy.json").write_text('{"tasks_api_access": ""}')
    from tests.support.config import set_option

    set_option(config_dir, "glance-api.conf", "oslo_policy", "policy_file", "policy.json")
    settings = load_settings(config_dir)
    assert settings.policy_rules == {"tasks_api_access": ""}


def test_only_admins_create_for_another_project_or_publicly(settings):
    with pytest.raises(Forbidden, match="owned by 'other'"):
        access.require_may_create(MEMBER, "other", "shared", settings)
    with pytest.raises(Forbidden, match="publicize_image"):
        access.require_may_create(MEMBER, "demo", "public", settings)
    access.require_may_create(ADMIN, "other", "public", settings)


def test_readers_may_not_create_images(settings):
    with pytest.raises(Forbidden):
        access.require_may_create(READER, "demo", "shared", settings)

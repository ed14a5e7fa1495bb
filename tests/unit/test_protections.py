"""Property protections in both of Glance's formats."""

from __future__ import annotations

import re

import pytest

from image_import.models import RequestContext
from image_import.policy.protections import PropertyProtections
from image_import.settings import ConfigError, load_settings
from tests.support.config import set_option

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"])
LEGACY_MEMBER = RequestContext(user_id="old", project_id="demo", roles=["_member_"])
ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["ADMIN"], is_admin=True)
SPECIAL = RequestContext(user_id="s", project_id="demo", roles=["spl_role"])
SERVICE = RequestContext(user_id="svc", project_id="demo", roles=["member"], service_roles=["service_role"])

ROLES_FILE = """
[^x_owner_.*]
create = admin,member,_member_
read = admin,member,_member_
update = admin,member,_member_
delete = admin,member,_member_

[property1]
create = admin,service_role
read = admin,service_role,member,_member_
update = admin
delete = admin

[spl_read_prop]
create = admin,spl_role
read = admin,spl_role
update = admin
delete = admin

[^everyone$]
create = @
read = @
update = @
delete = @

[^nobody$]
create = !
read = !
update = !
delete = !

[.*]
create = admin
read = admin
update = admin
delete = admin
"""

POLICIES_FILE = """
[^x_.*]
create = context_is_admin
read = default
update = default
delete = !
"""


def protections_from(config_dir, text: str, rule_format: str = "roles", policy: str = "") -> PropertyProtections:
    (config_dir / "protections.conf").write_text(text)
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_file", "protections.conf")
    set_option(config_dir, "glance-api.conf", "DEFAULT", "property_protection_rule_format", rule_format)
    if policy:
        (config_dir / "policy.yaml").write_text(policy)
    rules = PropertyProtections.of(load_settings(config_dir))
    assert rules is not None
    return rules


@pytest.mark.parametrize(
    "context, name, operation, allowed",
    [
        (MEMBER, "x_owner_foo", "create", True),
        (LEGACY_MEMBER, "x_owner_foo", "update", True),
        (MEMBER, "foo", "create", False),  # falls to [.*]
        (ADMIN, "foo", "create", True),  # roles compare case-insensitively
        (MEMBER, "property1", "read", True),
        (MEMBER, "property1", "update", False),
        (MEMBER, "property1", "delete", False),
        (ADMIN, "property1", "delete", True),
        (SERVICE, "property1", "create", True),  # service roles count as roles
        (MEMBER, "property1", "create", False),
        (SPECIAL, "spl_read_prop", "read", True),
        (MEMBER, "spl_read_prop", "read", False),
        (MEMBER, "everyone", "delete", True),
        (ADMIN, "nobody", "read", False),
        (MEMBER, "os_glance_import_task", "read", True),  # reserved namespace: always readable
    ],
)
def test_roles_format(config_dir, context, name, operation, allowed):
    assert protections_from(config_dir, ROLES_FILE).allows(context, name, operation) is allowed


def test_sections_match_in_file_order_first_match_wins(config_dir):
    text = "[.*]\ncreate = @\nread = @\nupdate = @\ndelete = @\n\n[^secret$]\ncreate = !\nread = !\nupdate = !\ndelete = !\n"
    assert protections_from(config_dir, text).allows(MEMBER, "secret", "read")


def test_a_property_matching_no_section_is_denied(config_dir):
    text = "[^x_.*]\ncreate = @\nread = @\nupdate = @\ndelete = @\n"
    assert not protections_from(config_dir, text).allows(ADMIN, "y", "read")


@pytest.mark.parametrize(
    "context, operation, allowed",
    [
        (ADMIN, "create", True),
        (MEMBER, "create", False),
        (MEMBER, "read", True),
        (MEMBER, "update", True),
        (ADMIN, "delete", False),
    ],
)
def test_policies_format_evaluates_named_rules(config_dir, context, operation, allowed):
    rules = protections_from(config_dir, POLICIES_FILE, "policies")
    assert rules.allows(context, "x_prop", operation) is allowed


def test_policies_format_uses_the_operators_rules(config_dir):
    rules = protections_from(
        config_dir, POLICIES_FILE.replace("context_is_admin", "may_create"), "policies", '"may_create": "role:member"\n'
    )
    assert rules.allows(MEMBER, "x_prop", "create")


def test_policies_format_refuses_a_list_at_startup(config_dir):
    with pytest.raises(ConfigError, match="one rule name"):
        protections_from(
            config_dir, POLICIES_FILE.replace("= default\nupdate", "= default,context_is_admin\nupdate"), "policies"
        )


def test_policies_format_refuses_an_undefined_rule_at_startup_naming_file_and_line(config_dir):
    text = POLICIES_FILE.replace("create = context_is_admin", "create = glance_creator")
    with pytest.raises(ConfigError, match=r"protections\.conf:3: .*'glance_creator' is not defined"):
        protections_from(config_dir, text, "policies")


def test_policies_format_accepts_a_rule_the_policy_file_defines(config_dir):
    text = POLICIES_FILE.replace("create = context_is_admin", "create = glance_creator")
    rules = protections_from(config_dir, text, "policies", '"glance_creator": "role:admin"\n')
    assert rules.allows(ADMIN, "x_prop", "create") and not rules.allows(MEMBER, "x_prop", "create")


def test_policies_format_evaluates_rule_name_so_an_unknown_name_denies(settings):
    # Glance checks "rule:<name>": a name no policy defines is False, never the permissive "default"
    from image_import.settings import ProtectionRule

    section = ProtectionRule(re.compile("^x_"), dict.fromkeys(("create", "read", "update", "delete"), "not_a_rule"))
    rules = PropertyProtections((section,), "policies", settings)
    assert not rules.allows(ADMIN, "x_prop", "read")
    assert not rules.allows(MEMBER, "x_prop", "create")


# ---------------------------------------------------------------- list filters (issue 21: no probing)
PIN_FILE = """
[^secret_pin$]
create = admin
read = admin
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""


def pinned_images(config_dir):
    from image_import.images.catalog import create_image
    from tests.support.fakes import fake_ports

    protections_from(config_dir, PIN_FILE)
    settings, ports = load_settings(config_dir), fake_ports()
    for pin in ("4831", "1111"):
        create_image(ADMIN, {"name": f"pin {pin}", "visibility": "public", "secret_pin": pin}, settings, ports)
    return settings, ports


def test_given_a_property_the_caller_may_not_read_when_filtering_on_it_then_no_image_matches(config_dir):
    from image_import.images.catalog import list_images

    settings, ports = pinned_images(config_dir)

    assert len(list_images(MEMBER, {}, settings, ports).images) == 2  # the images are listed to the member
    for guess in ("4831", "1111", "0000"):  # whether the value is right or wrong, the answer is the same
        assert list_images(MEMBER, {"secret_pin": [guess]}, settings, ports).images == []


def test_given_a_property_the_caller_may_read_when_filtering_on_it_then_the_images_with_that_value(config_dir):
    from image_import.images.catalog import list_images

    settings, ports = pinned_images(config_dir)

    assert [i.name for i in list_images(ADMIN, {"secret_pin": ["4831"]}, settings, ports).images] == ["pin 4831"]
    assert [i.name for i in list_images(MEMBER, {"name": ["pin 4831"]}, settings, ports).images] == ["pin 4831"]

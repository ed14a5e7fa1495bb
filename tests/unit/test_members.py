"""Image sharing: Glance's member rules and the visibility membership grants, and the member flow's races."""

from __future__ import annotations

import pytest

from image_import.errors import Conflict, Forbidden, NotFound
from image_import.images import members
from image_import.models import Image, RequestContext
from image_import.models.image import ImageMember
from image_import.policy import access
from image_import.policy.rules import PolicyEngine, image_target
from tests.support.fakes import fake_ports

OWNER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"])
SHARED_WITH = RequestContext(user_id="alt", project_id="alt", roles=["member", "reader"])
READER_OF_SHARED_WITH = RequestContext(user_id="r", project_id="alt", roles=["reader"])
STRANGER = RequestContext(user_id="eve", project_id="eve", roles=["member", "reader"])
ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["admin"], is_admin=True)
IMAGE_ID = "00000000-0000-0000-0000-000000000001"


def image(visibility="shared", status="pending", **kw) -> Image:
    return Image(id=IMAGE_ID, owner="demo", visibility=visibility, members={"alt": ImageMember(status=status)}, **kw)


def allows(action: str, context: RequestContext, target_image: Image | None = None) -> bool:
    return PolicyEngine().allows(action, image_target(target_image or image(), context), context)


# ---------------------------------------------------------------- Glance's default member rules
@pytest.mark.parametrize(
    "action, context, expected",
    [
        ("add_member", OWNER, True),
        ("add_member", SHARED_WITH, False),
        ("add_member", ADMIN, True),
        ("delete_member", OWNER, True),
        ("delete_member", SHARED_WITH, False),  # a member rejects; it does not remove itself
        ("get_members", OWNER, True),
        ("get_members", SHARED_WITH, True),
        ("get_members", READER_OF_SHARED_WITH, True),
        ("get_member", SHARED_WITH, True),
        ("get_member", STRANGER, True),  # the rule passes; the data layer hides what a stranger may not see
        ("modify_member", SHARED_WITH, True),
        ("modify_member", READER_OF_SHARED_WITH, False),  # role:member needed
        ("modify_member", OWNER, False),  # only the member changes its status
        ("modify_member", ADMIN, True),
        ("download_image", SHARED_WITH, True),  # through project_id:%(member_id)s
        ("modify_image", SHARED_WITH, False),
    ],
)
def test_glances_default_member_rules(action, context, expected):
    assert allows(action, context) is expected


def test_member_id_names_the_callers_project_on_another_projects_shared_image_only():
    assert image_target(image(), SHARED_WITH)["member_id"] == "alt"
    assert image_target(image(), OWNER)["member_id"] is None
    assert image_target(image(visibility="private"), SHARED_WITH)["member_id"] is None
    assert "members" not in image_target(image(), SHARED_WITH)


def test_a_member_id_rule_admits_the_member_through_the_alias():
    # an operator's rule that trusts only members (the alias Glance documents for get_image/download_image)
    rules = PolicyEngine({"download_image": "project_id:%(member_id)s"})
    assert rules.allows("download_image", image_target(image(), SHARED_WITH), SHARED_WITH)
    assert not rules.allows("download_image", image_target(image(), OWNER), OWNER)


# ---------------------------------------------------------------- what the data layer returns
@pytest.mark.parametrize("status", ["pending", "accepted", "rejected"])
def test_a_member_sees_a_shared_image_in_every_membership_status(settings, status):
    assert access.can_see(SHARED_WITH, image(status=status), settings)


def test_a_stranger_does_not_see_a_shared_image(settings):
    assert not access.can_see(STRANGER, image(), settings)
    with pytest.raises(NotFound):
        access.require_visible(STRANGER, image(), IMAGE_ID, settings)


@pytest.mark.parametrize("visibility", ["private"])
def test_membership_grants_nothing_once_the_image_is_not_shared(settings, visibility):
    assert not access.can_see(SHARED_WITH, image(visibility=visibility, status="accepted"), settings)


@pytest.mark.parametrize(
    "status, member_status, listed",
    [
        ("accepted", "accepted", True),
        ("pending", "accepted", False),
        ("pending", "pending", True),
        ("rejected", "rejected", True),
        ("rejected", "all", True),
        ("accepted", "rejected", False),
    ],
)
def test_a_list_shows_shared_images_by_membership_status(settings, status, member_status, listed):
    assert access.can_see(SHARED_WITH, image(status=status), settings, member_status) is listed


def test_owners_and_admins_list_regardless_of_member_status(settings):
    assert access.can_see(OWNER, image(status="rejected"), settings, "accepted")
    assert access.can_see(ADMIN, image(status="rejected"), settings, "pending")


def test_a_member_knows_only_its_own_membership():
    shared = image()
    shared.members["third"] = ImageMember()
    assert set(members.visible_members(OWNER, shared)) == {"alt", "third"}
    assert set(members.visible_members(ADMIN, shared)) == {"alt", "third"}
    assert set(members.visible_members(SHARED_WITH, shared)) == {"alt"}
    assert members.visible_members(STRANGER, shared) == {}


# ---------------------------------------------------------------- the flow
def stored(ports, **kw) -> Image:
    record = image(**kw)
    ports.images.create(record)
    return record


def test_a_lost_race_is_reapplied_to_the_fresh_record(settings):
    ports = fake_ports()
    stored(ports)
    real_save, raced = ports.images.save, []

    def save_after_another_writer(record):
        if not raced:  # another request adds a member between our read and our write
            raced.append(True)
            other = ports.images.get(record.id)
            other.members["third"] = ImageMember()
            real_save(other)
        real_save(record)

    ports.images.save = save_after_another_writer
    members.add_member(OWNER, IMAGE_ID, {"member": "fourth"}, settings, ports)
    assert set(ports.images.get(IMAGE_ID).members) == {"alt", "third", "fourth"}


def test_a_record_that_keeps_changing_is_409_not_500(settings):
    ports = fake_ports()
    stored(ports)

    def always_beaten(record):
        from image_import.errors import ConcurrentUpdate

        raise ConcurrentUpdate(record.id)

    ports.images.save = always_beaten
    with pytest.raises(Conflict):
        members.update_member(SHARED_WITH, IMAGE_ID, "alt", {"status": "accepted"}, settings, ports)


def test_a_race_with_a_visibility_change_is_answered_from_the_fresh_record(settings):
    ports = fake_ports()
    stored(ports)
    real_save = ports.images.save

    def save_after_unsharing(record):
        other = ports.images.get(record.id)
        if other.visibility == "shared":
            other.visibility = "private"
            real_save(other)
        real_save(record)

    ports.images.save = save_after_unsharing
    with pytest.raises(Forbidden, match="Only shared images have members"):
        members.add_member(OWNER, IMAGE_ID, {"member": "third"}, settings, ports)


def test_negative_quota_is_unlimited_up_to_what_the_record_holds(config_dir):
    from image_import.settings import load_settings
    from tests.support.config import set_option

    set_option(config_dir, "glance-api.conf", "DEFAULT", "image_member_quota", "-1")
    settings = load_settings(config_dir)
    assert settings.image_member_quota == -1
    assert members._member_limit(settings) == members.MAX_MEMBERS_PER_IMAGE


def test_the_quota_defaults_to_glances(settings):
    assert settings.image_member_quota == 128

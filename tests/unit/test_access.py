"""Owner-or-admin access, and 404 for what a caller may not see."""

from __future__ import annotations

import pytest

from image_import.errors import Forbidden, NotFound
from image_import.models import Image, RequestContext
from image_import.policy import access

MEMBER = RequestContext(user_id="demo", project_id="demo", roles=["member", "reader"])
OTHER = RequestContext(user_id="eve", project_id="eve", roles=["member"])
ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["Admin"])


def image(**kw) -> Image:
    return Image(id="00000000-0000-0000-0000-000000000001", owner="demo", **kw)


@pytest.mark.parametrize(
    "context, visibility, visible",
    [
        (MEMBER, "shared", True),
        (OTHER, "shared", False),
        (OTHER, "private", False),
        (OTHER, "public", True),
        (OTHER, "community", True),
        (ADMIN, "private", True),
    ],
)
def test_who_sees_an_image(context, visibility, visible):
    assert access.can_see(context, image(visibility=visibility)) is visible


def test_an_invisible_image_is_not_found():
    with pytest.raises(NotFound):
        access.require_visible(OTHER, image(visibility="private"), "x")


def test_a_visible_image_of_another_project_is_forbidden_to_change():
    with pytest.raises(Forbidden):
        access.require_modifiable(OTHER, image(visibility="public"), "import")


def test_roles_are_lower_cased_so_admin_is_admin():
    assert ADMIN.is_admin and access.can_modify(ADMIN, image())


def test_only_admins_create_for_another_project_or_publicly():
    with pytest.raises(Forbidden, match="owned by 'other'"):
        access.require_may_create(MEMBER, "other", "shared")
    with pytest.raises(Forbidden):
        access.require_may_create(MEMBER, "demo", "public")
    access.require_may_create(ADMIN, "other", "public")

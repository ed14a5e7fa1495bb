"""Tenants stay apart: callers without a project, and admin as the policy's context_is_admin says.

Keystone's domain- and system-scoped tokens carry no project. Glance (which has no system scope;
every rule is ``scope_types=['project']`` and ``[oslo_policy] enforce_scope`` is true) answers
them: creating an image 403, listing images 403, any image 404. Checked against a real Glance 33.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import Api

NO_PROJECT_TOKENS = """
# a domain-scoped and a system-scoped token: no project
domain-token:
  user_id: dom
  project_id: null
  roles: [admin, member, reader]
system-token:
  user_id: sys
  project_id: null
  roles: [admin, member, reader]
"""


@pytest.fixture
def stack_config(config_dir: Path) -> Path:
    with (config_dir / "local-tokens.yaml").open("a") as tokens:
        tokens.write(NO_PROJECT_TOKENS)
    return config_dir


@pytest.fixture
def domain(stack) -> Api:
    return Api(stack, "domain-token")


@pytest.fixture
def system(stack) -> Api:
    return Api(stack, "system-token")


def _body(**fields) -> dict:
    return {"disk_format": "raw", "container_format": "bare", "name": "x", **fields}


def test_a_caller_without_a_project_cannot_create_an_image(domain):
    reply = domain.call("POST", "/v2/images", _body())
    assert reply.status == 403, reply.text
    assert "add_image" in reply.text


def test_a_caller_without_a_project_may_not_list_images(domain, admin):
    admin.create(visibility="public")
    reply = domain.call("GET", "/v2/images")
    assert reply.status == 403, reply.text
    assert "get_images" in reply.text


@pytest.mark.parametrize("visibility", ["private", "shared", "community", "public"])
def test_a_caller_without_a_project_reaches_no_image(system, admin, visibility):
    image = admin.create(visibility=visibility)
    path = f"/v2/images/{image['id']}"
    patch = [{"op": "replace", "path": "/name", "value": "mine"}]
    assert system.call("GET", path).status == 404
    assert (
        system.call("PATCH", path, patch, {"Content-Type": "application/openstack-images-v2.1-json-patch"}).status
        == 404
    )
    assert system.call("GET", f"{path}/file").status == 404
    assert system.call("GET", f"{path}/members").status == 404
    assert system.call("DELETE", path).status == 404
    assert admin.show(image["id"])["name"] == "test"


def test_two_callers_without_a_project_share_nothing(domain, system):
    assert domain.call("POST", "/v2/images", _body(visibility="private")).status == 403
    assert system.call("POST", "/v2/images", _body(visibility="private")).status == 403
    assert system.call("GET", "/v2/images").status == 403


def test_a_caller_without_a_project_is_no_admin_whatever_its_roles(system, member):
    image = member.create(visibility="private")
    assert system.call("GET", f"/v2/images/{image['id']}").status == 404
    assert system.call("GET", "/v2/tasks").status == 403


# ------------------------------------------------- admin means context_is_admin
@pytest.fixture
def admin_of_admin_project(config_dir: Path) -> Path:
    (config_dir / "policy.yaml").write_text('"context_is_admin": "role:admin and project_id:admin"\n')
    with (config_dir / "local-tokens.yaml").open("a") as tokens:
        tokens.write("\nalt-admin-token:\n  user_id: alt-admin\n  project_id: alt\n  roles: [admin, member, reader]\n")
    return config_dir


class TestAdminIsWhatThePolicySays:
    @pytest.fixture
    def stack_config(self, admin_of_admin_project: Path) -> Path:
        return admin_of_admin_project

    def test_an_admin_of_another_project_does_not_see_shared_images(self, stack, member, admin):
        alt_admin = Api(stack, "alt-admin-token")
        shared = member.create(visibility="shared")
        private = member.create(visibility="private")
        listed = {i["id"] for i in alt_admin.call("GET", "/v2/images").json["images"]}
        assert shared["id"] not in listed and private["id"] not in listed
        for image in (shared, private):
            assert alt_admin.call("GET", f"/v2/images/{image['id']}").status == 404
            assert alt_admin.call("GET", f"/v2/images/{image['id']}/file").status == 404
        # the admin the rule names still sees them
        assert admin.call("GET", f"/v2/images/{shared['id']}").status == 200
        every = {i["id"] for i in admin.call("GET", "/v2/images").json["images"]}
        assert {shared["id"], private["id"]} <= every

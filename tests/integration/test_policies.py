"""Policies, property protections, PATCH, classic upload, the import gate and the Tasks API, over the API."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.config import set_option
from tests.support.stack_state import wait_for_executions

V21 = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
V20 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}


def patch(api, image_id, ops, headers=V21):
    return api.call("PATCH", f"/v2/images/{image_id}", ops, headers)


def imported(api, stack, data=b"abc") -> dict:
    image = api.create()
    api.stage(image["id"], data)
    assert api.import_(image["id"]).status == 202
    wait_for_executions(stack)
    return api.show(image["id"])


# ---------------------------------------------------------------- PATCH
def test_patch_v21_replaces_adds_and_removes(member):
    image = member.create(extra="1")
    reply = patch(
        member,
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/x_new", "value": "v"},
            {"op": "remove", "path": "/extra"},
        ],
    )
    assert reply.status == 200, reply.text
    assert reply.json["name"] == "renamed" and reply.json["x_new"] == "v" and "extra" not in reply.json
    assert member.show(image["id"])["name"] == "renamed"


def test_patch_v20_as_tempest_sends_it(member):
    image = member.create()
    reply = patch(
        member, image["id"], [{"add": "/hw_cpu_cores", "value": "5"}, {"replace": "/protected", "value": True}], V20
    )
    assert reply.status == 200, reply.text
    assert reply.json["hw_cpu_cores"] == "5" and reply.json["protected"] is True


def test_patch_v20_add_of_an_existing_property_is_409(member):
    image = member.create(speed="1")
    assert patch(member, image["id"], [{"add": "/speed", "value": "2"}], V20).status == 409


@pytest.mark.parametrize("path", ["/id", "/status", "/checksum", "/size", "/self", "/file", "/schema", "/created_at"])
def test_patching_a_read_only_attribute_is_403(member, path):
    image = member.create()
    assert patch(member, image["id"], [{"op": "replace", "path": path, "value": "x"}]).status == 403


def test_patching_the_reserved_namespace_is_403(member):
    image = member.create()
    assert patch(member, image["id"], [{"op": "add", "path": "/os_glance_foo", "value": "x"}]).status == 403


@pytest.mark.parametrize(
    "ops, status",
    [
        ({"op": "add", "path": "/x", "value": "1"}, 400),  # not an array
        ([{"op": "move", "path": "/x", "value": "1"}], 400),
        ([{"op": "add", "path": "x", "value": "1"}], 400),
        ([{"op": "add", "path": "/a/b", "value": "1"}], 400),
        ([{"op": "add", "path": "/x"}], 400),
        ([{"op": "replace", "path": "/min_ram", "value": "lots"}], 400),
        ([{"op": "replace", "path": "/missing", "value": "1"}], 409),
        ([{"op": "remove", "path": "/missing"}], 409),
        ([{"op": "remove", "path": "/name"}], 403),
        ([{"op": "replace", "path": "/owner", "value": "eve"}], 403),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403),
    ],
)
def test_bad_patches_get_glances_status(member, ops, status):
    image = member.create()
    assert patch(member, image["id"], ops).status == status


def test_patch_with_another_media_type_is_415_with_accept_patch(member):
    image = member.create()
    reply = member.call("PATCH", f"/v2/images/{image['id']}", [], {"Content-Type": "application/json"})
    assert reply.status == 415
    assert "openstack-images-v2.1-json-patch" in reply.headers["accept-patch"]


def test_a_failing_operation_applies_none_of_the_patch(member):
    image = member.create(name="before")
    ops = [{"op": "replace", "path": "/name", "value": "after"}, {"op": "remove", "path": "/missing"}]
    assert patch(member, image["id"], ops).status == 409
    assert member.show(image["id"])["name"] == "before"


def test_formats_of_an_active_image_cannot_change(member, stack):
    image = imported(member, stack)
    assert patch(member, image["id"], [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]).status == 403


def test_patching_someone_elses_images(member, admin):
    public = admin.create(visibility="public")
    private = admin.create(visibility="private")
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    assert patch(member, public["id"], ops).status == 403
    assert patch(member, private["id"], ops).status == 404


# ---------------------------------------------------------------- Glance's guide: inject + protect property1
def test_the_guides_case_member_import_gets_property1_can_read_but_not_change_it(member, admin, stack):
    image = imported(member, stack)
    assert image["property1"] == "value1"
    assert patch(member, image["id"], [{"op": "replace", "path": "/property1", "value": "x"}]).status == 403
    assert patch(member, image["id"], [{"op": "remove", "path": "/property1"}]).status == 403
    assert patch(admin, image["id"], [{"op": "replace", "path": "/property1", "value": "x"}]).status == 200
    assert patch(admin, image["id"], [{"op": "remove", "path": "/property1"}]).status == 200
    assert "property1" not in member.show(image["id"])


def test_a_member_cannot_create_property1_themselves(member):
    assert member.call("POST", "/v2/images", {"property1": "mine"}).status == 403


class TestProtectedReads:
    @pytest.fixture
    def stack_config(self, config_dir):
        (config_dir / "property-protections.conf").write_text(
            "[^secret$]\ncreate = admin\nread = admin\nupdate = admin\ndelete = admin\n\n"
            "[.*]\ncreate = @\nread = @\nupdate = @\ndelete = @\n"
        )
        return config_dir

    def test_unreadable_properties_are_left_out_of_show_and_list(self, member, admin):
        image = admin.create(visibility="public", secret="s")
        assert "secret" not in member.show(image["id"])
        assert all("secret" not in i for i in member.call("GET", "/v2/images").json["images"])
        assert admin.show(image["id"])["secret"] == "s"

    def test_an_unreadable_property_looks_absent_and_survives_other_changes(self, member, admin):
        image = admin.create(secret="s", owner="demo")
        assert patch(member, image["id"], [{"op": "remove", "path": "/secret"}]).status == 409
        assert patch(member, image["id"], [{"op": "replace", "path": "/name", "value": "n"}]).status == 200
        assert admin.show(image["id"])["secret"] == "s"


# ---------------------------------------------------------------- classic upload and the guide's upload rule
def test_classic_upload_makes_an_image_active_with_its_hashes(member):
    image = member.create()
    reply = member.call(
        "PUT", f"/v2/images/{image['id']}/file", b"classic", {"Content-Type": "application/octet-stream"}
    )
    assert reply.status == 204, reply.text
    shown = member.show(image["id"])
    assert shown["status"] == "active" and shown["checksum"] == hashlib.md5(b"classic").hexdigest()
    again = member.call("PUT", f"/v2/images/{image['id']}/file", b"x", {"Content-Type": "application/octet-stream"})
    assert again.status == 409


def test_classic_upload_needs_formats_and_octet_stream(member):
    reply = member.call("POST", "/v2/images", {"name": "no formats"})
    image_id = reply.json["id"]
    assert (
        member.call("PUT", f"/v2/images/{image_id}/file", b"x", {"Content-Type": "application/octet-stream"}).status
        == 400
    )
    assert member.call("PUT", f"/v2/images/{image_id}/file", b"x", {"Content-Type": "text/plain"}).status == 415
    assert member.show(image_id)["status"] == "queued"


class TestUploadReservedForServices:
    @pytest.fixture
    def stack_config(self, config_dir):
        with (config_dir / "policy.yaml").open("a") as rules:
            rules.write('"upload_image": "role:admin or (service_user_id:nova-uuid) or (service_roles:service)"\n')
        return config_dir

    def test_a_member_may_not_upload_but_may_stage_and_import(self, member, stack):
        image = member.create()
        reply = member.call("PUT", f"/v2/images/{image['id']}/file", b"x", {"Content-Type": "application/octet-stream"})
        assert reply.status == 403
        assert member.show(image["id"])["status"] == "queued"
        assert imported(member, stack)["status"] == "active"

    def test_an_admin_may_still_upload(self, admin):
        image = admin.create()
        reply = admin.call("PUT", f"/v2/images/{image['id']}/file", b"x", {"Content-Type": "application/octet-stream"})
        assert reply.status == 204


class TestStagePolicyMatrix:
    """Glance's functional test: stage with modify_image denied -> 403; get_image denied too -> 404."""

    @pytest.fixture
    def stack_config(self, config_dir):
        (config_dir / "policy.yaml").write_text('"modify_image": "role:admin"\n')
        return config_dir

    def test_stage_is_403_when_only_modify_is_refused(self, member, admin):
        image = admin.create(owner="demo")
        assert member.stage(image["id"], b"x").status == 403
        assert member.show(image["id"])["status"] == "queued"


# ---------------------------------------------------------------- the import gate
class TestImportGateOff:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-api.conf", "DEFAULT", "enable_image_import", "false")
        return config_dir

    def test_versions_list_no_version_with_import(self, anonymous):
        ids = [v["id"] for v in anonymous.call("GET", "/versions").json["versions"]]
        assert "v2.6" not in ids and "v2.17" not in ids and "v2.5" in ids

    def test_stage_import_and_info_import_are_404(self, member):
        image = member.create()
        assert member.call("GET", "/v2/info/import").status == 404
        assert member.stage(image["id"], b"x").status == 404
        assert member.import_(image["id"]).status == 404
        assert member.show(image["id"])["status"] == "queued"

    def test_everything_else_still_works(self, member):
        reply = member.call("POST", "/v2/images", {"disk_format": "raw", "container_format": "bare"})
        assert reply.status == 201 and "openstack-image-import-methods" not in reply.headers
        assert (
            member.call(
                "PUT", f"/v2/images/{reply.json['id']}/file", b"x", {"Content-Type": "application/octet-stream"}
            ).status
            == 204
        )


# ---------------------------------------------------------------- Tasks API
def test_the_tasks_api_is_closed_to_members_while_they_import(member, stack):
    image = imported(member, stack)
    assert image["status"] == "active"
    assert member.call("GET", "/v2/tasks").status == 403
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert member.call("GET", f"/v2/tasks/{task['id']}").status == 403


def test_admins_list_and_show_tasks_in_glances_shapes(member, admin, stack):
    image = imported(member, stack)
    body = admin.call("GET", "/v2/tasks").json
    [stub] = [t for t in body["tasks"]]
    assert set(stub) >= {"id", "type", "status", "owner", "created_at", "updated_at", "self", "schema"}
    assert "input" not in stub and body["first"] == "/v2/tasks" and body["schema"] == "/v2/schemas/tasks"
    detail = admin.call("GET", f"/v2/tasks/{stub['id']}").json
    assert detail["image_id"] == image["id"] and detail["result"] == {"image_id": image["id"]}
    assert detail["self"] == f"/v2/tasks/{stub['id']}"
    import jsonschema

    jsonschema.validate(detail, admin.call("GET", "/v2/schemas/task").json)
    jsonschema.validate(body, admin.call("GET", "/v2/schemas/tasks").json)


@pytest.mark.parametrize(
    "query", [{"status": ["nope"]}, {"type": ["api_image_import"]}, {"marker": ["not-a-uuid"]}, {"sort_dir": ["up"]}]
)
def test_bad_task_queries_are_400(admin, query):
    assert admin.call("GET", "/v2/tasks", query=query).status == 400


def test_tasks_filter_and_page(member, admin, stack):
    for _ in range(3):
        imported(member, stack)
    first = admin.call("GET", "/v2/tasks", query={"limit": ["2"], "status": ["success"]}).json
    assert len(first["tasks"]) == 2 and "next" in first
    marker = first["next"].split("marker=")[1]
    rest = admin.call("GET", "/v2/tasks", query={"limit": ["2"], "status": ["success"], "marker": [marker]}).json
    assert len(rest["tasks"]) == 1
    assert admin.call("GET", "/v2/tasks", query={"status": ["failure"]}).json["tasks"] == []


def test_deleting_a_task_is_405(admin):
    reply = admin.call("DELETE", "/v2/tasks/00000000-0000-0000-0000-000000000000")
    assert reply.status == 405 and reply.headers["allow"] == "GET"


class TestTasksApiOpened:
    @pytest.fixture
    def stack_config(self, config_dir):
        (config_dir / "policy.yaml").write_text('"tasks_api_access": ""\n')
        return config_dir

    def test_members_then_see_only_their_projects_tasks(self, member, admin, stack):
        imported(member, stack)
        imported(admin, stack)
        tasks = member.call("GET", "/v2/tasks").json["tasks"]
        assert [t["owner"] for t in tasks] == ["demo"]

"""The API handler under moto, through the emulated API Gateway and its authorizer."""

from __future__ import annotations

import uuid

import jsonschema
import pytest

from tests.support.api import Api
from tests.support.stack_state import bucket_keys


# ---------------------------------------------------------------- versions and discovery
def test_root_answers_300_with_the_versions_without_a_token(anonymous):
    reply = anonymous.call("GET", "/")
    assert reply.status == 300
    ids = [v["id"] for v in reply.json["versions"]]
    assert "v2.17" in ids and "v2.6" in ids
    assert reply.json["versions"][0]["links"][0]["href"] == "http://127.0.0.1:9292/v2/"


def test_versions_answers_200_without_a_token(anonymous):
    reply = anonymous.call("GET", "/versions")
    assert reply.status == 200
    current = [v for v in reply.json["versions"] if v["status"] == "CURRENT"]
    assert [v["id"] for v in current] == ["v2.17"]


@pytest.mark.parametrize("token", [None, "no-such-token"])
def test_image_routes_need_a_known_token(stack, token):
    reply = Api(stack, token).call("GET", "/v2/images")
    assert reply.status == 401


def test_info_import_lists_the_enabled_methods(member):
    reply = member.call("GET", "/v2/info/import")
    assert reply.status == 200
    assert reply.json["import-methods"]["value"] == ["glance-direct", "web-download"]


def test_info_stores_is_404_as_in_a_single_store_glance(member):
    assert member.call("GET", "/v2/info/stores").status == 404


def test_unknown_paths_are_404_in_glances_error_format(member):
    reply = member.call("GET", "/v2/nothing-here")
    assert reply.status == 404
    assert reply.json["code"] == "404 Not Found"


# ---------------------------------------------------------------- create
def test_create_answers_201_with_location_import_methods_and_a_queued_image(member):
    reply = member.call("POST", "/v2/images", {"name": "cirros", "disk_format": "qcow2", "container_format": "bare"})
    assert reply.status == 201
    image = reply.json
    assert reply.headers["location"] == f"http://127.0.0.1:9292/v2/images/{image['id']}"
    assert reply.headers["openstack-image-import-methods"] == "glance-direct,web-download"
    assert reply.headers["x-openstack-request-id"].startswith("req-")
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"
    assert image["owner"] == "demo"
    assert image["size"] is None and image["checksum"] is None
    assert image["self"] == f"/v2/images/{image['id']}"


def test_every_image_body_validates_against_the_served_schema(member):
    schema = member.call("GET", "/v2/schemas/image").json
    image = member.create(extra_prop="x", tags=["a"])
    jsonschema.validate(image, schema)
    jsonschema.validate(member.show(image["id"]), schema)
    collection = member.call("GET", "/v2/schemas/images").json
    jsonschema.validate(member.call("GET", "/v2/images").json, collection)


def test_create_with_a_client_chosen_id_keeps_it_and_a_duplicate_is_409(member):
    image_id = str(uuid.uuid4())
    assert member.create(id=image_id)["id"] == image_id
    reply = member.call("POST", "/v2/images", {"id": image_id})
    assert reply.status == 409


@pytest.mark.parametrize(
    "body, status",
    [
        ({"disk_format": "floppy"}, 400),
        ({"container_format": "box"}, 400),
        ({"name": "x" * 256}, 400),
        ({"extra": 5}, 400),
        ({"id": "not-a-uuid"}, 400),
        ({"min_ram": -1}, 400),
        ({"size": 10}, 403),
        ({"status": "active"}, 403),
        ({"self": "/x"}, 403),
        ({"os_glance_import_task": "x"}, 403),
        ({"os_glance_anything": "x"}, 403),
        ({"owner": "someone-else"}, 403),
        ({"visibility": "public"}, 403),
    ],
)
def test_create_rejects_bad_fields_with_glances_status(member, body, status):
    reply = member.call("POST", "/v2/images", body)
    assert reply.status == status, reply.text
    assert reply.json["code"].startswith(str(status))


def test_create_with_malformed_json_is_400(member):
    reply = member.call("POST", "/v2/images", "{not json", {"Content-Type": "application/json"})
    assert reply.status == 400
    assert "Malformed JSON" in reply.json["message"]


def test_create_reads_its_body_as_json_whatever_the_content_type(member):
    # Glance 33 answers 201 here (curl -d sends form-encoded); it never checks a create's media type
    reply = member.call("POST", "/v2/images", '{"name": "x"}', {"Content-Type": "text/plain"})
    assert reply.status == 201
    assert reply.json["name"] == "x"


def test_create_without_a_body_is_400(member):
    assert member.call("POST", "/v2/images").status == 400


def test_errors_for_accept_any_are_an_html_page(member):
    reply = member.call("GET", f"/v2/images/{uuid.uuid4()}", headers={"Accept": "*/*"})
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("text/html")
    assert "404 Not Found" in reply.text


# ---------------------------------------------------------------- show, list
@pytest.mark.parametrize("image_id", [str(uuid.uuid4()), "not-a-uuid", "x" * 40])
def test_unknown_or_malformed_ids_are_404(member, image_id):
    assert member.call("GET", f"/v2/images/{image_id}").status == 404


def test_an_image_of_another_project_is_404_to_a_member(member, admin):
    image = admin.create(visibility="private")
    assert member.call("GET", f"/v2/images/{image['id']}").status == 404
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 404


def test_an_admin_sees_a_members_image(member, admin):
    image = member.create()
    assert admin.show(image["id"])["owner"] == "demo"


def test_list_shows_own_and_public_images_only(member, admin):
    own = member.create(name="own")
    public = admin.create(name="public", visibility="public")
    admin.create(name="private", visibility="private")
    names = {i["name"] for i in member.call("GET", "/v2/images").json["images"]}
    assert names == {"own", "public"}
    assert {i["id"] for i in member.call("GET", "/v2/images").json["images"]} == {own["id"], public["id"]}


def test_list_pages_with_limit_marker_and_a_relative_next_link(member):
    created = [member.create(name=f"img{n}")["id"] for n in range(5)]
    seen, query, pages = [], {"limit": ["2"]}, 0
    while True:
        body = member.call("GET", "/v2/images", query=query).json
        seen += [i["id"] for i in body["images"]]
        pages += 1
        if "next" not in body:
            break
        assert body["next"].startswith("/v2/images?")
        marker = body["next"].split("marker=")[1]
        query = {"limit": ["2"], "marker": [marker]}
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))
    assert pages == 3


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
def test_list_takes_os_hidden_in_any_case_as_glance_does(member, value):
    # openstacksdk's find_image (and so create_image) sends os_hidden=True
    member.create(name="shown")
    hidden = member.create(name="hidden", os_hidden=True)
    reply = member.call("GET", "/v2/images", query={"os_hidden": [value]})
    assert reply.status == 200, reply.text
    assert [i["id"] for i in reply.json["images"]] == [hidden["id"]]


def test_list_refuses_an_os_hidden_that_is_not_a_boolean(member):
    reply = member.call("GET", "/v2/images", query={"os_hidden": ["yes"]})
    assert reply.status == 400
    assert "Invalid value 'yes' for 'os_hidden' filter." in reply.text


@pytest.mark.parametrize("query", [{"limit": ["x"]}, {"limit": ["-1"]}, {"marker": [str(uuid.uuid4())]}])
def test_list_rejects_bad_paging_with_400(member, query):
    assert member.call("GET", "/v2/images", query=query).status == 400


# ---------------------------------------------------------------- stage
def test_stage_answers_204_and_the_image_is_uploading_with_its_size(member, stack):
    image = member.create()
    reply = member.stage(image["id"], b"0123456789")
    assert reply.status == 204
    shown = member.show(image["id"])
    assert shown["status"] == "uploading"
    assert shown["size"] == 10
    assert bucket_keys(stack, "StagingBucket") == [f"staging/{image['id']}"]


def test_stage_with_a_wrong_content_type_is_415(member):
    image = member.create()
    reply = member.call("PUT", f"/v2/images/{image['id']}/stage", b"x", {"Content-Type": "application/json"})
    assert reply.status == 415
    assert member.show(image["id"])["status"] == "queued"


def test_staging_twice_is_409_and_keeps_the_first_data(member):
    image = member.create()
    member.stage(image["id"], b"first")
    assert member.stage(image["id"], b"second!").status == 409
    assert member.show(image["id"])["size"] == 5


def test_a_size_header_that_does_not_match_is_400_and_nothing_stays_staged(member, stack):
    image = member.create()
    reply = member.call(
        "PUT",
        f"/v2/images/{image['id']}/stage",
        b"abc",
        {"Content-Type": "application/octet-stream", "x-openstack-image-size": "4"},
    )
    assert reply.status == 400
    assert member.show(image["id"])["status"] == "queued"
    assert bucket_keys(stack, "StagingBucket") == []


def test_staging_someone_elses_visible_image_is_403(member, admin):
    image = admin.create(visibility="public")
    assert member.stage(image["id"], b"x").status == 403


# ---------------------------------------------------------------- import (synchronous part)
def test_import_without_staged_data_is_409(member):
    image = member.create()
    reply = member.import_(image["id"])
    assert reply.status == 409
    assert "needs to be staged" in reply.json["message"]


def test_import_without_disk_or_container_format_is_409(member):
    reply = member.call("POST", "/v2/images", {"name": "no formats"})
    image_id = reply.json["id"]
    member.stage(image_id, b"data")
    reply = member.import_(image_id)
    assert reply.status == 409
    assert "needs to be set before import" in reply.json["message"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "requires a 'method' field"),
        ({"method": {}}, "requires a 'method' field"),
        ({"method": {"uri": "x"}}, "requires a 'name' field"),
        ({"method": {"name": "copy-image"}}, "Unknown import method name 'copy-image'"),
        ({"method": {"name": "glance-direct"}, "all_stores": "yes"}, "all_stores"),
    ],
)
def test_import_requests_are_validated_in_glances_order(member, body, message):
    image = member.create()
    member.stage(image["id"], b"data")
    reply = member.call("POST", f"/v2/images/{image['id']}/import", body)
    assert reply.status == 400
    assert message in reply.json["message"]


def test_import_of_an_unknown_image_is_404(member):
    assert member.import_(str(uuid.uuid4())).status == 404


def test_import_of_someone_elses_visible_image_is_403(member, admin):
    image = admin.create(visibility="public")
    admin.stage(image["id"], b"data")
    assert member.import_(image["id"]).status == 403


def test_import_tolerates_the_multi_store_flags_real_clients_send(member):
    image = member.create()
    member.stage(image["id"], b"data")
    body = {"method": {"name": "glance-direct"}, "all_stores": True, "all_stores_must_succeed": False}
    reply = member.call("POST", f"/v2/images/{image['id']}/import", body)
    assert reply.status == 202


def test_import_answers_202_with_an_empty_body_and_records_a_task(member):
    image = member.create()
    member.stage(image["id"], b"data")
    reply = member.import_(image["id"])
    assert reply.status == 202
    assert reply.text == ""
    tasks = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]
    assert len(tasks) == 1
    assert tasks[0]["type"] == "api_image_import"
    assert tasks[0]["request_id"] == reply.headers["x-openstack-request-id"]
    assert tasks[0]["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    assert tasks[0]["user_id"] == "demo"


def test_tasks_of_an_invisible_image_are_404(member, admin):
    image = admin.create(visibility="private")
    assert member.call("GET", f"/v2/images/{image['id']}/tasks").status == 404


# ---------------------------------------------------------------- delete
def test_delete_answers_204_and_removes_the_record_and_staged_data(member, stack):
    image = member.create()
    member.stage(image["id"], b"data")
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204
    assert member.call("GET", f"/v2/images/{image['id']}").status == 404
    assert bucket_keys(stack, "StagingBucket") == []


def test_a_protected_image_cannot_be_deleted(member):
    image = member.create(protected=True)
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 403
    assert member.show(image["id"])["status"] == "queued"

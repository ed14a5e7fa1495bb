"""What a differential run against real Glance 33 showed, each answered as Glance answers it
(checked against the peer of /work/shared/glance-peer)."""

from __future__ import annotations

import json

import pytest

from tests.support.api import Api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what `curl -d` sends


# ---------------------------------------------------------------- JSON bodies whatever their Content-Type
def test_an_import_reads_its_body_as_json_when_sent_form_encoded(member):
    image = member.create()
    assert member.stage(image["id"], b"data").status == 204
    body = json.dumps({"method": {"name": "glance-direct"}})
    reply = member.call("POST", f"/v2/images/{image['id']}/import", body, FORM)
    assert reply.status == 202, reply.text


def test_a_create_sent_form_encoded_is_created(member):
    body = json.dumps({"name": "curl", "disk_format": "raw", "container_format": "bare"})
    reply = member.call("POST", "/v2/images", body, FORM)
    assert reply.status == 201, reply.text
    assert reply.json["disk_format"] == "raw"


def test_a_form_encoded_body_that_is_not_json_is_400_malformed_json(member):
    reply = member.call("POST", "/v2/images", "name=x", FORM)
    assert reply.status == 400
    assert reply.json["message"] == "Malformed JSON in request body."


def test_member_add_and_update_read_json_whatever_the_content_type(member, stack):
    image = member.create(visibility="shared")
    added = member.call("POST", f"/v2/images/{image['id']}/members", json.dumps({"member": "alt"}), FORM)
    assert added.status == 200, added.text
    other = Api(stack, "other-token")
    path = f"/v2/images/{image['id']}/members/alt"
    updated = other.call("PUT", path, json.dumps({"status": "accepted"}), {"Content-Type": "text/plain"})
    assert updated.status == 200, updated.text
    assert updated.json["status"] == "accepted"


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_patch_still_needs_its_json_patch_media_type(member, content_type):
    image = member.create()
    reply = member.call("PATCH", f"/v2/images/{image['id']}", "[]", {"Content-Type": content_type})
    assert reply.status == 415


# ---------------------------------------------------------------- version discovery
# GET /versions of single-store Glance 33 (no image cache), ids and statuses in its order
GLANCE_VERSIONS = [("v2.15", "SUPPORTED"), ("v2.9", "SUPPORTED"), ("v2.17", "CURRENT")] + [
    (f"v2.{n}", "SUPPORTED") for n in range(7, -1, -1)
]


@pytest.mark.parametrize(("path", "status"), [("/versions", 200), ("/", 300)])
def test_versions_lists_what_single_store_glance_lists_in_its_order(anonymous, path, status):
    reply = anonymous.call("GET", path)
    assert reply.status == status
    assert [(v["id"], v["status"]) for v in reply.json["versions"]] == GLANCE_VERSIONS
    assert reply.headers["content-type"] == "application/json"
    assert "x-openstack-request-id" not in reply.headers  # Glance's version negotiation sends none


# ---------------------------------------------------------------- 401
GLANCE_401 = {
    "message": "This server could not verify that you are authorized to access the document you requested."
    " Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand"
    " how to supply the credentials required.",
    "code": "401 Unauthorized",
    "title": "Unauthorized",
}


@pytest.mark.parametrize("token", [None, "no-such-token"])
def test_a_missing_or_unknown_token_is_glances_401(stack, token):
    reply = Api(stack, token).call("GET", "/v2/images")
    assert reply.status == 401
    assert reply.json == GLANCE_401


def test_the_api_functions_own_401_is_glances(stack):
    """Without the authorizer's identity (the API never takes it from headers) the API answers it itself."""
    from image_import.api.app import app

    event = {
        "httpMethod": "GET",
        "path": "/v2/images",
        "resource": "/v2/images",
        "headers": {"Accept": "application/json"},
        "requestContext": {"requestId": "r1", "stage": "v1"},
        "body": None,
    }
    answer = app.resolve(event, None)
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"]) == GLANCE_401


# ---------------------------------------------------------------- quota usage
@pytest.mark.parametrize("token", ["member-token", "other-token", "admin-token"])
def test_info_usage_is_an_empty_usage_map_for_any_caller_as_glance_without_limits(stack, token):
    reply = Api(stack, token).call("GET", "/v2/info/usage")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json == {"usage": {}}


def test_info_usage_needs_a_token(anonymous):
    assert anonymous.call("GET", "/v2/info/usage").status == 401


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_info_usage_under_another_method_is_404_as_glance_routes_it(member, method):
    assert member.call(method, "/v2/info/usage").status == 404


# ---------------------------------------------------------------- list filters
def listed_names(api, query: dict[str, list[str]]) -> list[str]:
    reply = api.call("GET", "/v2/images", query=query)
    assert reply.status == 200, reply.text
    return sorted(i["name"] for i in reply.json["images"])


def test_several_tag_filters_must_all_match(member):
    member.create(name="both", tags=["t1", "t2"])
    member.create(name="t1 only", tags=["t1"])
    member.create(name="t2 only", tags=["t2"])
    assert listed_names(member, {"tag": ["t1"]}) == ["both", "t1 only"]
    assert listed_names(member, {"tag": ["t1", "t2"]}) == ["both"]
    assert listed_names(member, {"tag": ["t2", "t1"]}) == ["both"]
    assert listed_names(member, {"tag": ["t1", "nope"]}) == []


def test_time_filters_compare_with_glances_operators(member, stack):
    old = member.create(name="old")
    new = member.create(name="new")
    # set the times apart in the records (the API writes them; they hold ISO 8601 UTC seconds)
    _set_times(stack, {old["id"]: "2024-01-01T00:00:00Z", new["id"]: "2025-06-01T12:00:00Z"})

    def names(value: str, key: str = "created_at") -> list[str]:
        return listed_names(member, {key: [value]})

    assert names("gt:2024-01-01T00:00:00Z") == ["new"]
    assert names("gte:2024-01-01T00:00:00Z") == ["new", "old"]
    assert names("lt:2025-06-01T12:00:00Z") == ["old"]
    assert names("lte:2025-06-01T12:00:00Z") == ["new", "old"]
    assert names("neq:2024-01-01T00:00:00Z") == ["new"]
    assert names("eq:2025-06-01T12:00:00Z") == names("2025-06-01T12:00:00Z") == ["new"]
    assert names("gt:2025-06-01T13:00:00+02:00") == ["new"]  # an offset counts: that is 11:00 UTC
    assert names("gt:2025") == ["new"]  # ISO 8601 reduced precision, as Glance's parser takes it
    assert names("lt:2024-06-01T00:00:00Z", "updated_at") == ["old"]


def _set_times(stack, created: dict[str, str]) -> None:
    from image_import.adapters.records import ImageRepository

    images = ImageRepository(stack.physical_name("ImagesTable"))
    for image_id, stamp in created.items():
        images.save(images.get(image_id).model_copy(update={"created_at": stamp, "updated_at": stamp}))


@pytest.mark.parametrize(
    ("query", "message"),
    [  # Glance 33's answers to the same queries
        ({"created_at": ["yesterday"]}, 'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.'),
        ({"updated_at": ["gt:yesterday"]}, 'Bad "updated_at" query filter format. Use ISO 8601 DateTime notation.'),
        ({"created_at": ["foo:2020-01-01T00:00:00Z"]}, "Unable to filter on a unknown operator."),
        ({"name": ["lt:x"]}, "Unable to filter by unknown operator 'lt'."),
        ({"id": ["neq:x"]}, "Unable to filter by unknown operator 'neq'."),
        ({"name": ['in:"a,b']}, 'Invalid filter value "a,b. The quote is not closed.'),
        ({"name": ['in:a"b"']}, 'Invalid filter value a"b". There is no comma before opening quotation mark.'),
        ({"name": ['in:"a"b']}, 'Invalid filter value "a"b. There is no comma after closing quotation mark.'),
        ({"size_min": ["1.5"]}, "Unable to filter on a range with a non-numeric value."),
        ({"protected": ["True"]}, "Invalid value 'True' for 'protected' filter. Valid values are 'true' or 'false'."),
    ],
)
def test_a_malformed_filter_is_glances_400_even_with_no_image_to_filter(member, query, message):
    reply = member.call("GET", "/v2/images", query=query)
    assert reply.status == 400
    assert reply.json["message"] == message


def test_in_lists_and_eq_on_the_list_filters(member):
    a = member.create(name="a", disk_format="qcow2")
    member.create(name="b,c", disk_format="raw")
    member.create(name="d", container_format="ova", disk_format="vmdk")
    assert listed_names(member, {"name": ['in:a,"b,c"']}) == ["a", "b,c"]
    assert listed_names(member, {"name": ["eq:d"]}) == ["d"]
    assert listed_names(member, {"id": [f"in:{a['id']},nope"]}) == ["a"]
    assert listed_names(member, {"disk_format": ["in:raw,vmdk"]}) == ["b,c", "d"]
    assert listed_names(member, {"container_format": ["in:ova"]}) == ["d"]
    assert listed_names(member, {"status": ["in:queued,active"]}) == ["a", "b,c", "d"]
    assert listed_names(member, {"status": ["in:active"]}) == []


# ---------------------------------------------------------------- paging
def test_an_unknown_image_marker_is_glances_400(member):
    marker = "0b6bc1a4-4ad8-4a4a-9f40-4a1e1a0b0c0d"
    reply = member.call("GET", "/v2/images", query={"marker": [marker]})
    assert reply.status == 400
    assert reply.json["message"].startswith(f"No image found with ID {marker}")


def test_an_unknown_task_marker_is_glances_400(admin):
    marker = "0b6bc1a4-4ad8-4a4a-9f40-4a1e1a0b0c0d"
    reply = admin.call("GET", "/v2/tasks", query={"marker": [marker]})
    assert reply.status == 400
    assert reply.json["message"].startswith(f"Task with the given id {marker} was not found")

"""Glance's routing details that real clients (tempest) check, through the emulated API Gateway."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.fast  # in the fast tier (make test-fast)


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/v2/images/"), ("DELETE", "/v2/images/"), ("GET", "/v2/schemas/image/"), ("GET", "/v2/info/import/")],
)
def test_a_path_with_a_trailing_slash_is_404_as_in_glance(member, method, path):
    # tempest ImagesNegativeTest.test_get_image_null_id: GET /v2/images/ (an empty image id) is 404, not the list
    reply = member.call(method, path)
    assert reply.status == 404, reply.text
    assert reply.json["code"] == "404 Not Found"


def test_the_same_paths_without_the_slash_still_answer(member, anonymous):
    assert member.call("GET", "/v2/images").status == 200
    assert member.call("GET", "/v2/schemas/image").status == 200
    assert anonymous.call("GET", "/").status == 300


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("DELETE", "/v2/images", "GET, POST"),
        ("PUT", "/v2/images", "GET, POST"),
        ("TRACE", "/v2/images", "GET, POST"),
        ("POST", "/v2/images/{id}", "GET, PATCH, DELETE"),
        ("TRACE", "/v2/images/{id}", "GET, PATCH, DELETE"),
        ("QUERY", "/v2/images/{id}", "GET, PATCH, DELETE"),
        ("FOO", "/v2/images/not-an-id", "GET, PATCH, DELETE"),
        ("GET", "/v2/images/{id}/stage", "PUT"),
        ("DELETE", "/v2/images/{id}/file", "GET, PUT"),
        ("GET", "/v2/images/{id}/import", "POST"),
        ("GET", "/v2/images/{id}/tags/x", "PUT, DELETE"),
        ("PUT", "/v2/images/{id}/members", "GET, POST"),
        ("POST", "/v2/images/{id}/members/alt", "GET, PUT, DELETE"),
        ("GET", "/v2/images/{id}/actions/deactivate", "POST"),
        ("POST", "/v2/tasks/{id}", "GET, DELETE"),
        ("POST", "/v2/schemas/image", "GET"),
        ("DELETE", "/v2/info/import", "GET"),
    ],
)
def test_a_method_a_path_does_not_have_is_405_with_allow_as_in_glance(member, method, path, allow):
    # what a real Glance (33) answers to the same requests: status, Allow, and WebOb's explanation
    image = member.create()
    reply = member.call(method, path.format(id=image["id"]))
    assert reply.status == 405, reply.text
    assert reply.headers["allow"] == allow
    assert reply.json["message"] == f"The method {method} is not allowed for this resource."
    assert reply.json["code"] == "405 Method Not Allowed"


def test_a_path_no_route_has_is_404_whatever_the_method(member):
    for method in ("GET", "DELETE", "TRACE"):
        assert member.call(method, "/v2/nothing").status == 404

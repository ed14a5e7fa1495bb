"""Glance's routing details that real clients (tempest) check, through the emulated API Gateway."""

from __future__ import annotations

import pytest


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

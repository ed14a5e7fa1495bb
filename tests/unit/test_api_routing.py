"""The API's seams: routers whose order cannot matter, one media-type reading, one paging shape."""

from __future__ import annotations

import re

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from image_import.api import requests
from image_import.api.app import app
from image_import.api.views import page
from image_import.errors import UnsupportedMediaType

# values a path parameter might take, including every literal segment some route has
PARAMETER_VALUES = ["x", "file", "stage", "import", "tasks", "members", "tags", "actions", "upload-urls", "schemas"]


def _sample_paths(rule: str) -> list[str]:
    return [re.sub(r"<\w+>", value, rule) for value in PARAMETER_VALUES]


def test_no_two_routes_of_one_method_match_the_same_path_so_router_order_does_not_matter():
    routes = app._static_routes + app._dynamic_routes
    for route in routes:
        for path in _sample_paths(route.path):
            matching = [r.path for r in routes if r.method == route.method and r.rule.match(path)]
            assert matching == [route.path], (route.method, path)


def test_every_route_is_registered_once():
    keys = [(r.method, r.path) for r in app._static_routes + app._dynamic_routes]
    assert len(keys) == len(set(keys))


def test_every_path_parameter_that_names_an_image_or_a_task_is_one_the_api_makes_canonical():
    """The API lower-cases the ids in ``ID_PARAMETERS`` for every route (models/ids.py): a route naming an
    image or a task by another parameter would compare the id as the client spelled it."""
    from image_import.api.app import ID_PARAMETERS

    for route in app._static_routes + app._dynamic_routes:
        segments = route.path.split("/")
        for before, segment in zip(segments, segments[1:], strict=False):
            parameter = segment[1:-1] if segment.startswith("<") else None
            if parameter and (before in ("images", "tasks") or "image" in parameter or "task" in parameter):
                assert parameter in ID_PARAMETERS, route.path


def _proxy_event(headers: dict[str, str], body: str | None = None) -> dict:
    return {
        "resource": "/{proxy+}",
        "path": "/probe",
        "httpMethod": "PUT",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {"requestId": "r1", "stage": "v1"},
        "body": body,
        "isBase64Encoded": False,
    }


def _read_with(helper) -> Response:
    """Resolve one request with a resolver of its own: the helpers read whichever request is resolved."""
    probe = APIGatewayRestResolver()

    @probe.put("/probe")
    def _probe():
        return {"value": helper()}

    return probe.resolve(_proxy_event({"Content-Type": " Application/JSON-Patch ; charset=UTF-8"}), None)


def test_the_media_type_is_the_content_type_without_parameters_in_lower_case():
    answer = _read_with(requests.media_type)
    assert answer["body"] == '{"value":"application/json-patch"}'


def test_a_body_of_another_media_type_is_refused_with_415_naming_it():
    probe = APIGatewayRestResolver()
    seen: list[Exception] = []

    @probe.put("/probe")
    def _probe():
        with pytest.raises(UnsupportedMediaType) as refused:
            requests.require_media_type(requests.OCTET_STREAM)
        seen.append(refused.value)
        return {}

    probe.resolve(_proxy_event({}), None)
    assert seen[0].explanation == "Unsupported Content-Type: none"


def test_a_first_page_links_the_query_without_marker_and_the_next_page_from_the_marker():
    params = {"limit": ["2"], "marker": ["m0"], "tag": ["a", "b"]}
    assert page("images", [{"id": "i1"}], params, "i1") == {
        "images": [{"id": "i1"}],
        "first": "/v2/images?limit=2&tag=a&tag=b",
        "schema": "/v2/schemas/images",
        "next": "/v2/images?limit=2&tag=a&tag=b&marker=i1",
    }


def test_the_last_page_has_no_next_link_and_an_unqueried_list_a_bare_first_link():
    body = page("tasks", [], {}, None)
    assert list(body) == ["tasks", "first", "schema"]
    assert body["first"] == "/v2/tasks"

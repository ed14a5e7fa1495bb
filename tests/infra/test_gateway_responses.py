"""API Gateway's own answers, in Glance's error format: a body too large for API Gateway/Lambda is 413."""

from __future__ import annotations

import json

from image_import.api.errors import render_error
from image_import.errors import RequestEntityTooLarge
from tests.support.infra import resources_of


def gateway_responses(cfn: dict) -> dict:
    [api] = [r for lid, r in resources_of(cfn, "AWS::ApiGateway::RestApi").items() if lid == "ImageApi"]
    # in the API's own OpenAPI body, so every deployment carries it (a separate GatewayResponse
    # resource is forgotten on SAM's redeploys: aws/serverless-application-model#390, #623)
    return api["Properties"]["Body"].get("x-amazon-apigateway-gateway-responses", {})


def test_a_request_too_large_for_api_gateway_is_a_413_in_glances_json_naming_the_direct_upload(cfn):
    response = gateway_responses(cfn)["REQUEST_TOO_LARGE"]
    assert response["statusCode"] == "413"
    body = json.loads(response["responseTemplates"]["application/json"])  # no $variables: parses as it is
    content_type, glance = render_error(RequestEntityTooLarge(body["message"]), "application/json")
    assert content_type == "application/json" and body == json.loads(glance)
    assert body["code"] == "413 Request Entity Too Large"
    assert "POST /v2/images/{image_id}/upload-urls" in body["message"]


def test_the_413_names_the_upload_command_as_it_parses(cfn):
    from image_import_client.cli import parser

    body = json.loads(gateway_responses(cfn)["REQUEST_TOO_LARGE"]["responseTemplates"]["application/json"])
    assert "glance-image-upload --file <image file> --image-id <image id>" in body["message"]
    args = parser().parse_args(["--file", "disk.img", "--image-id", "an-id"])  # the command as written takes those
    assert (args.file, args.image_id) == ("disk.img", "an-id")


def test_api_gateways_own_401_is_glances_401_in_its_json_format(cfn):
    from image_import.api.requests import UNAUTHORIZED
    from image_import.errors import Unauthorized

    response = gateway_responses(cfn)["UNAUTHORIZED"]
    assert response["statusCode"] == "401"
    body = json.loads(response["responseTemplates"]["application/json"])
    assert body == json.loads(render_error(Unauthorized(UNAUTHORIZED), "application/json")[1])
    assert (body["code"], body["title"]) == ("401 Unauthorized", "Unauthorized")


def test_api_gateways_throttling_is_a_429_in_glances_json_format(cfn):
    from image_import.errors import GlanceError

    class TooManyRequests(GlanceError):  # the service never raises it: API Gateway answers it before any code runs
        status, title = 429, "Too Many Requests"

    response = gateway_responses(cfn)["THROTTLED"]
    assert response["statusCode"] == "429"
    body = json.loads(response["responseTemplates"]["application/json"])
    assert body == json.loads(render_error(TooManyRequests(body["message"]), "application/json")[1])
    assert (body["code"], body["title"]) == ("429 Too Many Requests", "Too Many Requests")

"""invoke_api: API Gateway REST (v1) Lambda proxy as the fixture template declares it."""

from __future__ import annotations

import base64
import hashlib
import json

ALLOW = {"X-Auth-Token": "allow"}


def call(stack, method: str, path: str, **options) -> tuple[int, dict | str]:
    result = stack.invoke_api(method, path, **options)
    body = result["body"]
    try:
        return result["statusCode"], json.loads(body)
    except ValueError:
        return result["statusCode"], body


# ---------------------------------------------------------------------------- routing


def test_given_an_exact_route_and_a_greedy_proxy_when_the_exact_path_is_asked_then_the_exact_route_wins(shared_stack):
    status, echo = call(shared_stack, "GET", "/health")

    assert (status, echo["resource"], echo["pathParameters"]) == (200, "/health", None)


def test_given_a_parameter_route_when_its_path_is_asked_then_it_wins_over_the_proxy_with_decoded_parameters(
    shared_stack,
):
    status, echo = call(shared_stack, "GET", "/items/a%20b", headers=ALLOW)

    assert (status, echo["resource"], echo["pathParameters"]) == (200, "/items/{item_id}", {"item_id": "a b"})
    assert echo["path"] == "/items/a%20b"


def test_given_a_greedy_proxy_when_a_deeper_path_is_asked_then_proxy_holds_the_rest(shared_stack):
    status, echo = call(shared_stack, "DELETE", "/items/42/parts/7", headers=ALLOW)

    assert (status, echo["resource"], echo["pathParameters"]) == (200, "/{proxy+}", {"proxy": "items/42/parts/7"})


def test_given_a_root_route_when_slash_is_asked_then_the_root_route_answers(shared_stack):
    status, echo = call(shared_stack, "GET", "/")

    assert (status, echo["resource"]) == (200, "/")


def test_given_a_resource_without_the_method_when_asked_then_api_gateway_answers_403_missing_token(shared_stack):
    status, body = call(shared_stack, "POST", "/")

    assert (status, body) == (403, {"message": "Missing Authentication Token"})


# ---------------------------------------------------------------------------- authorizer


def test_given_an_open_route_when_asked_without_a_token_then_the_handler_answers(shared_stack):
    status, echo = call(shared_stack, "GET", "/health")

    assert (status, echo["authorizer"]) == (200, None)


def test_given_a_protected_route_when_the_identity_header_is_missing_then_401_without_calling_the_authorizer(
    shared_stack,
):
    # the fixture authorizer would allow a missing token: only API Gateway itself can answer 401 here
    status, body = call(shared_stack, "GET", "/items/1")

    assert (status, body) == (401, {"message": "Unauthorized"})


def test_given_an_authorizer_raising_unauthorized_when_asked_then_401(shared_stack):
    status, body = call(shared_stack, "GET", "/items/1", headers={"X-Auth-Token": "wrong"})

    assert (status, body) == (401, {"message": "Unauthorized"})


def test_given_an_authorizer_denying_when_asked_then_403(shared_stack):
    status, body = call(shared_stack, "GET", "/items/1", headers={"X-Auth-Token": "deny"})

    assert (status, body) == (403, {"message": "User is not authorized to access this resource"})


def test_given_an_authorizer_allowing_only_another_api_when_asked_then_403(shared_stack):
    status, _ = call(shared_stack, "GET", "/items/1", headers={"X-Auth-Token": "elsewhere"})

    assert status == 403


def test_given_a_broken_authorizer_when_asked_then_500_as_an_authorizer_configuration_error(shared_stack):
    result = shared_stack.invoke_api("GET", "/items/1", headers={"X-Auth-Token": "crash"})

    assert result["statusCode"] == 500
    assert result["headers"]["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_given_an_allowing_authorizer_when_asked_then_its_context_and_principal_reach_the_handler(shared_stack):
    _, echo = call(shared_stack, "GET", "/items/1", headers={"x-auth-token": "allow"})

    assert echo["authorizer"] == {"user": "alice", "admin": "true", "level": "3", "principalId": "alice"}


# ---------------------------------------------------------------------------- the proxy event and response


def test_given_a_handler_that_raises_when_asked_then_502_internal_server_error(shared_stack):
    status, body = call(shared_stack, "GET", "/boom", headers=ALLOW)

    assert (status, body) == (502, {"message": "Internal server error"})


def test_given_an_octet_stream_body_when_sent_then_the_handler_gets_it_base64_encoded(shared_stack):
    headers = {**ALLOW, "Content-Type": "application/octet-stream"}

    _, echo = call(shared_stack, "PUT", "/upload", headers=headers, body=b"plain ascii")

    assert (echo["isBase64Encoded"], echo["length"]) == (True, len(b"plain ascii"))


def test_given_a_body_that_is_not_utf8_when_sent_as_text_then_it_is_base64_encoded_anyway(shared_stack):
    data = bytes(range(256))
    headers = {**ALLOW, "Content-Type": "text/plain"}

    _, echo = call(shared_stack, "PUT", "/upload", headers=headers, body=data)

    assert (echo["isBase64Encoded"], echo["sha256"]) == (True, hashlib.sha256(data).hexdigest())


def test_given_a_json_body_when_sent_then_the_handler_gets_it_as_text(shared_stack):
    headers = {**ALLOW, "Content-Type": "application/json"}

    _, echo = call(shared_stack, "POST", "/things", headers=headers, body=b'{"a": 1}')

    assert (echo["isBase64Encoded"], echo["text"]) == (False, '{"a": 1}')


def test_given_repeated_query_parameters_when_sent_then_single_and_multi_value_forms_are_both_there(shared_stack):
    _, echo = call(shared_stack, "GET", "/health", query={"tag": ["a", "b"], "limit": ["5"]})

    assert echo["query"] == {"tag": "b", "limit": "5"}
    assert echo["multiQuery"] == {"tag": ["a", "b"], "limit": ["5"]}


def test_given_a_host_header_and_source_ip_when_sent_then_the_request_context_carries_them(shared_stack):
    _, echo = call(shared_stack, "GET", "/health", headers={"Host": "127.0.0.1:9292"}, source_ip="10.1.2.3")

    assert (echo["domainName"], echo["sourceIp"], echo["stage"]) == ("127.0.0.1:9292", "10.1.2.3", "test")


def test_given_a_handler_result_when_returned_then_headers_and_multi_value_headers_come_back(shared_stack):
    result = shared_stack.invoke_api("GET", "/health")

    assert result["headers"]["Content-Type"] == "application/json"
    assert result["multiValueHeaders"] == {"X-Echo": ["one", "two"]}
    assert result["isBase64Encoded"] is False


def test_given_a_binary_handler_result_when_returned_then_it_stays_base64_for_the_caller(shared_stack):
    result = shared_stack.invoke_api(
        "POST", "/binary", headers={**ALLOW, "Content-Type": "application/octet-stream"}, body=b"\x00\xff"
    )

    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"\x00\xff"


# ---------------------------------------------------------------------------- Lambda's payload limits


def test_given_a_body_whose_event_passes_lambdas_request_limit_when_sent_then_api_gateway_answers_413(shared_stack):
    headers = {**ALLOW, "Content-Type": "application/octet-stream"}  # binary: 5 MiB travel as 7 MB of base64

    result = shared_stack.invoke_api("PUT", "/upload", headers=headers, body=b"x" * (5 * 1024 * 1024))

    assert result["statusCode"] == 413
    assert json.loads(result["body"]) == {"message": "Request Too Long"}


def test_given_a_body_whose_event_stays_within_lambdas_request_limit_when_sent_then_the_handler_gets_it(
    shared_stack,
):
    headers = {**ALLOW, "Content-Type": "application/octet-stream"}  # 4 MiB: 5.6 MB of base64 and the event

    status, echo = call(shared_stack, "PUT", "/upload", headers=headers, body=b"x" * (4 * 1024 * 1024))

    assert (status, echo["length"]) == (200, 4 * 1024 * 1024)


def test_given_large_requests_served_when_a_body_passes_lambdas_limit_then_it_runs_with_a_warning(make_stack, caplog):
    stack = make_stack(name="large", large_requests=True)  # beside the module's shared stack "t"
    headers = {**ALLOW, "Content-Type": "application/octet-stream"}

    status, echo = call(stack, "PUT", "/upload", headers=headers, body=b"x" * (5 * 1024 * 1024))

    assert (status, echo["length"]) == (200, 5 * 1024 * 1024)
    assert "exceeds Lambda's 6291456 byte request limit" in caplog.text


def test_given_a_handler_result_over_lambdas_response_limit_when_returned_then_api_gateway_answers_502(shared_stack):
    result = shared_stack.invoke_api("GET", "/large", headers=ALLOW, query={"bytes": ["6300000"]})

    assert result["statusCode"] == 502
    assert json.loads(result["body"]) == {"message": "Internal server error"}


def test_given_a_handler_result_within_lambdas_response_limit_when_returned_then_the_client_gets_it(shared_stack):
    result = shared_stack.invoke_api("GET", "/large", headers=ALLOW, query={"bytes": ["6000000"]})

    assert (result["statusCode"], len(result["body"])) == (200, 6_000_000)


def test_given_a_token_authorizer_when_asked_then_it_gets_the_token_and_its_context_reaches_the_handler(tmp_path):
    from image_import_dev.local.apigateway import RestApi, make_request
    from image_import_dev.local.runtime import LambdaRuntime, LocalFunction

    def uri(name: str) -> str:
        return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:{name}/invocations"

    runtime = LambdaRuntime()
    for name, source in {
        "auth": "def handler(e, c):\n    s = {'Action': 'execute-api:Invoke', 'Effect': 'Allow', 'Resource': e['methodArn']}\n"
        "    return {'principalId': 'p', 'policyDocument': {'Statement': [s]}, 'context': {'token': e['authorizationToken']}}\n",
        "api": "import json\ndef handler(e, c):\n    return {'statusCode': 200, 'body': json.dumps(e['requestContext']['authorizer'])}\n",
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(source)
        runtime.add(LocalFunction(name, tmp_path / name))
    body = {
        "paths": {
            "/x": {
                "get": {
                    "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": uri("api")},
                    "security": [{"Tok": []}],
                }
            }
        },
        "securityDefinitions": {
            "Tok": {
                "type": "apiKey",
                "name": "Authorization",
                "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": uri("auth")},
            }
        },
    }
    api = RestApi.from_openapi("Api", body, api_id="abc", stage="s", region="us-east-1", account_id="1")

    result = api.invoke(runtime, make_request("GET", "/x", headers={"Authorization": "Bearer t"}))

    assert json.loads(result["body"]) == {"token": "Bearer t", "principalId": "p"}

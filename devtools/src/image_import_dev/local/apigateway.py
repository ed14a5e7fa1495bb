"""API Gateway REST (v1) with Lambda proxy integrations, emulated from the API's OpenAPI body.

moto's API Gateway has no AWS_PROXY integration, so requests are answered here: route
selection as API Gateway does it, REQUEST and TOKEN Lambda authorizers, the proxy event, and
API Gateway's own answers (403 unknown route, 401/403 from the authorizer, 502 on a handler error,
413 when Lambda refuses the event as too large, 502 when the result is: runtime.py holds the limits).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from image_import_dev.local import LocalStackError
from image_import_dev.local.runtime import LambdaRuntime, RequestTooLarge, function_name_of

log = logging.getLogger(__name__)

ANY = "ANY"
OPENAPI_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}
LITERAL, PARAMETER, GREEDY = 0, 1, 2  # a literal segment is more specific than a parameter, and that than {proxy+}


@dataclass(frozen=True)
class Authorizer:
    name: str
    type: str  # "REQUEST" or "TOKEN"
    function: str  # name of the authorizer Lambda
    identity_sources: tuple[str, ...]  # e.g. "method.request.header.X-Auth-Token"
    validation_expression: str | None = None  # TOKEN only: a regex the token must match


@dataclass(frozen=True)
class Route:
    resource: str  # as declared: "/items/{item_id}", "/{proxy+}"
    method: str  # upper case, or ANY
    function: str  # name of the integration Lambda
    authorizer: Authorizer | None
    specificity: tuple[int, ...] = field(compare=False)
    pattern: re.Pattern[str] = field(compare=False)
    parameters: tuple[str, ...] = field(compare=False)

    @classmethod
    def of(cls, resource: str, method: str, function: str, authorizer: Authorizer | None) -> Route:
        kinds, regex, names = [], "", []
        for segment in [s for s in resource.split("/") if s]:
            if match := re.fullmatch(r"\{([^}+]+)\+\}", segment):
                kinds.append(GREEDY)
                regex += f"/(?P<p{len(names)}>.+)"
                names.append(match.group(1))
            elif match := re.fullmatch(r"\{([^}]+)\}", segment):
                kinds.append(PARAMETER)
                regex += f"/(?P<p{len(names)}>[^/]+)"
                names.append(match.group(1))
            else:
                kinds.append(LITERAL)
                regex += "/" + re.escape(segment)
        pattern = re.compile((regex or "/") + r"\Z")
        return cls(resource, method, function, authorizer, tuple(kinds), pattern, tuple(names))

    def path_parameters(self, path: str) -> dict[str, str] | None:
        match = self.pattern.match(path)
        if match is None:
            return None
        # API Gateway passes path parameters decoded while `path` stays as sent
        return {name: unquote(match.group(f"p{i}")) for i, name in enumerate(self.parameters)}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, list[str]]
    query: dict[str, list[str]]
    body: bytes | None
    source_ip: str

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower() and values:
                return values[-1]
        return None


@dataclass
class RestApi:
    """One AWS::ApiGateway::RestApi: its routes, binary media types, stage and authorizers."""

    logical_id: str
    api_id: str
    stage: str
    region: str
    account_id: str
    routes: list[Route]
    binary_media_types: list[str]
    stage_variables: dict[str, str] | None = None
    # the API's own GatewayResponses (x-amazon-apigateway-gateway-responses), by response type
    gateway_responses: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openapi(
        cls,
        logical_id: str,
        body: dict[str, Any],
        *,
        api_id: str,
        stage: str,
        region: str,
        account_id: str,
        binary_media_types: list[str] | None = None,
        stage_variables: dict[str, str] | None = None,
    ) -> RestApi:
        """Routes from a resolved OpenAPI 2/3 body as SAM writes it (``x-amazon-apigateway-*`` extensions)."""
        authorizers = _authorizers(body)
        routes = []
        for resource, operations in (body.get("paths") or {}).items():
            for verb, operation in operations.items():
                if verb.lower() not in OPENAPI_METHODS:
                    continue  # "parameters" and other path-level keys
                function = _proxy_function(operation.get("x-amazon-apigateway-integration") or {})
                if function is None:
                    log.warning("%s %s %s: only Lambda proxy integrations run locally", logical_id, verb, resource)
                    continue
                method = ANY if verb.lower() == "x-amazon-apigateway-any-method" else verb.upper()
                security = operation.get("security", body.get("security")) or []
                names = [name for requirement in security for name in requirement]
                authorizer = next((authorizers[n] for n in names if n in authorizers), None)
                routes.append(Route.of(resource, method, function, authorizer))
        media = [*(body.get("x-amazon-apigateway-binary-media-types") or []), *(binary_media_types or [])]
        media = list(dict.fromkeys(m.replace("~1", "/") for m in media))  # SAM escapes "/" as "~1"
        customized = body.get("x-amazon-apigateway-gateway-responses") or {}
        return cls(logical_id, api_id, stage, region, account_id, routes, media, stage_variables or None, customized)

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The most specific resource matching the path, then its method (or ANY) as API Gateway picks."""
        matches = [(route, params) for route in self.routes if (params := route.path_parameters(path)) is not None]
        if not matches:
            return None
        best = min(route.specificity for route, _ in matches)
        on_resource = [(route, params) for route, params in matches if route.specificity == best]
        for wanted in (method.upper(), ANY):
            for route, params in on_resource:
                if route.method == wanted:
                    return route, params
        return None

    def is_binary(self, content_type: str | None) -> bool:
        media_type = (content_type or "").split(";")[0].strip().lower()
        return bool(media_type) and any(_wildcard(t.lower(), media_type) for t in self.binary_media_types)

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{method}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ a request
    def invoke(self, runtime: LambdaRuntime, request: Request) -> dict[str, Any]:
        """Answer one request as API Gateway would, running the authorizer and integration in ``runtime``."""
        found = self.route(request.method, request.path)
        if found is None:
            return gateway_response(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        route, path_parameters = found
        event = self._proxy_event(route, request, path_parameters)
        if route.authorizer is not None:
            outcome = self._authorize(runtime, route.authorizer, event, request)
            if "statusCode" in outcome:
                return self._as_customized(outcome)
            event["requestContext"]["authorizer"] = outcome
        try:
            result = runtime.invoke(route.function, event)
        except RequestTooLarge as refused:  # Lambda's 413 for the event (body and headers): API Gateway's own
            log.warning(
                "%s %s: a %d byte event is over Lambda's request limit", request.method, request.path, refused.size
            )
            return self._as_customized(
                gateway_response(413, "Request Too Long", "BadRequestException"), "REQUEST_TOO_LARGE"
            )
        if result.function_error:  # Function.ResponseSizeTooLarge among them: a result over Lambda's limit
            failure = result.json()
            log.error(
                "%s %s: %s raised %s: %s\n%s",
                request.method,
                request.path,
                route.function,
                failure.get("errorType"),
                failure.get("errorMessage"),
                "".join(failure.get("stackTrace") or []),
            )
            return gateway_response(502, "Internal server error", "InternalServerErrorException")
        return _proxy_response(result.json(), route.function)

    def _as_customized(self, response: dict[str, Any], response_type: str | None = None) -> dict[str, Any]:
        """API Gateway's own answer as the API's GatewayResponse of that type (``response_type``, else the
        one of its error type) sets it (status, JSON body)."""
        error_type = response["headers"]["x-amzn-ErrorType"]
        customized = self.gateway_responses.get(response_type or GATEWAY_RESPONSE_TYPES.get(error_type, ""))
        if not customized:
            return response
        template = (customized.get("responseTemplates") or {}).get("application/json")
        status = int(customized.get("statusCode") or response["statusCode"])
        return {**response, "statusCode": status, "body": template if template is not None else response["body"]}

    def _proxy_event(self, route: Route, request: Request, path_parameters: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        body, is_base64 = request.body, False
        if body is not None:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is None or self.is_binary(request.header("content-type")):
                body, is_base64 = base64.b64encode(body).decode("ascii"), True
            else:
                body = text
        request_id = str(uuid.uuid4())
        return {
            "resource": route.resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in request.headers.items() if v} or None,
            "multiValueHeaders": dict(request.headers) or None,
            "queryStringParameters": {k: v[-1] for k, v in request.query.items() if v} or None,
            "multiValueQueryStringParameters": dict(request.query) or None,
            "pathParameters": path_parameters or None,
            "stageVariables": self.stage_variables,
            "requestContext": {
                "resourceId": route.resource,
                "resourcePath": route.resource,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": request.path,
                "accountId": self.account_id,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": (request.header("host") or "localhost").split(".")[0],
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": request.source_ip, "userAgent": request.header("user-agent")},
                "domainName": request.header("host") or "localhost",
                "apiId": self.api_id,
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _authorize(
        self, runtime: LambdaRuntime, authorizer: Authorizer, event: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        """Either API Gateway's own answer (has statusCode) or the authorizer's context for the event."""
        identity = [_identity_value(source, request, event) for source in authorizer.identity_sources]
        if any(not value for value in identity):  # API Gateway does not call the authorizer at all
            return gateway_response(401, "Unauthorized", "UnauthorizedException")
        method_arn = self.method_arn(request.method, request.path)
        if authorizer.type == "TOKEN":
            token = identity[0] or ""
            if authorizer.validation_expression and not re.fullmatch(authorizer.validation_expression, token):
                return gateway_response(401, "Unauthorized", "UnauthorizedException")
            auth_event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        else:
            keep = ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters")
            keep += ("multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext")
            auth_event = {"type": "REQUEST", "methodArn": method_arn, **{k: event[k] for k in keep}}
        result = runtime.invoke(authorizer.function, auth_event)
        if result.function_error:
            if result.error_message == "Unauthorized":
                return gateway_response(401, "Unauthorized", "UnauthorizedException")
            return gateway_response(500, None, "AuthorizerConfigurationException")
        answer = result.json()
        try:
            allowed = _policy_allows(answer["policyDocument"], method_arn)
            context = {k: _context_value(v) for k, v in (answer.get("context") or {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error("authorizer %s returned an invalid response (%s): %r", authorizer.function, exc, answer)
            return gateway_response(500, None, "AuthorizerConfigurationException")
        if not allowed:
            return gateway_response(403, "User is not authorized to access this resource", "AccessDeniedException")
        return {**context, "principalId": answer.get("principalId")}


# the GatewayResponse type of each answer API Gateway makes itself around the authorizer
GATEWAY_RESPONSE_TYPES = {"UnauthorizedException": "UNAUTHORIZED", "AccessDeniedException": "ACCESS_DENIED"}


def gateway_response(status: int, message: str | None, error_type: str) -> dict[str, Any]:
    """A response API Gateway makes itself (no integration involved)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "x-amzn-ErrorType": error_type},
        "multiValueHeaders": {},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def make_request(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str | list[str]] | None = None,
    query: Mapping[str, list[str]] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> Request:
    multi_headers = {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in (headers or {}).items()}
    multi_query = {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in (query or {}).items()}
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Request(method.upper(), path or "/", multi_headers, multi_query, body, source_ip)


def _proxy_response(result: Any, function: str) -> dict[str, Any]:
    """The integration's answer, checked as API Gateway checks it (502 when malformed)."""
    valid = (
        isinstance(result, dict)
        and isinstance(result.get("statusCode"), int | str)
        and str(result.get("statusCode")).isdigit()
        and isinstance(result.get("body", ""), str | type(None))
    )
    if not valid:
        log.error("%s returned a malformed Lambda proxy response: %.300r", function, result)
        return gateway_response(502, "Internal server error", "InternalServerErrorException")
    return {
        "statusCode": int(result["statusCode"]),
        "headers": dict(result.get("headers") or {}),
        "multiValueHeaders": dict(result.get("multiValueHeaders") or {}),
        "body": result.get("body") or "",
        "isBase64Encoded": bool(result.get("isBase64Encoded")),
    }


def _proxy_function(integration: dict[str, Any]) -> str | None:
    if str(integration.get("type", "")).lower() != "aws_proxy":
        return None
    match = re.search(r"/functions/(.+)/invocations", str(integration.get("uri", "")))
    return function_name_of(match.group(1)) if match else None


def _authorizers(body: dict[str, Any]) -> dict[str, Authorizer]:
    schemes = body.get("securityDefinitions") or (body.get("components") or {}).get("securitySchemes") or {}
    found = {}
    for name, scheme in schemes.items():
        spec = scheme.get("x-amazon-apigateway-authorizer")
        if not spec:
            continue  # api keys and IAM auth are not emulated: such routes are open locally
        kind = str(spec.get("type", "token")).upper()
        if kind not in ("TOKEN", "REQUEST"):
            raise LocalStackError(f"authorizer {name!r}: type {kind} is not supported by the local stack")
        function = _proxy_function({"type": "aws_proxy", "uri": spec.get("authorizerUri", "")})
        if function is None:
            raise LocalStackError(f"authorizer {name!r}: no Lambda function in authorizerUri")
        default_source = f"method.request.header.{scheme.get('name') or 'Authorization'}" if kind == "TOKEN" else ""
        sources = [s.strip() for s in str(spec.get("identitySource", default_source)).split(",") if s.strip()]
        found[name] = Authorizer(name, kind, function, tuple(sources), spec.get("identityValidationExpression"))
    return found


def _identity_value(source: str, request: Request, event: dict[str, Any]) -> str | None:
    kind, _, name = source.rpartition(".")
    if kind in ("method.request.header", "method.request.multivalueheader"):
        return request.header(name)
    if kind in ("method.request.querystring", "method.request.multivaluequerystring"):
        values = next((v for k, v in request.query.items() if k == name), None)
        return values[-1] if values else None
    if kind == "stageVariables":
        return (event.get("stageVariables") or {}).get(name)
    return "present"  # context.* variables: always there


def _policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM evaluation, reduced to what an authorizer policy holds: an explicit Deny wins, else any Allow."""
    statements = policy["Statement"]
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if not any(_wildcard(a.lower(), "execute-api:invoke") for a in actions):
            continue
        if not any(_wildcard(r, method_arn) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value is not None else []


def _wildcard(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def _context_value(value: Any) -> str:
    # API Gateway stringifies authorizer context values and rejects objects and arrays
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"authorizer context values must be strings, numbers or booleans, not {value!r}")

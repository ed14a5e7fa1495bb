"""The API Gateway REQUEST authorizer's side of a request: the token headers it reads, the answer
it gives, and how the API reads the caller back from that answer (both directions in one place).
"""

from __future__ import annotations

from typing import Any

from image_import.models.caller import Caller


def header(headers: dict[str, str] | None, name: str) -> str | None:
    """A request header, case-insensitively (API Gateway passes them as the client sent them)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def token_from(headers: dict[str, str] | None) -> str | None:
    return header(headers, "x-auth-token")


def service_token_from(headers: dict[str, str] | None) -> str | None:
    return header(headers, "x-service-token")


def authorizer_response(caller: Caller, method_arn: str) -> dict[str, Any]:
    """Allow the whole API for this caller, passing who they are in the authorizer context."""
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> arn:...:api-id/stage/*
    api_and_stage = "/".join(method_arn.split("/", 2)[:2])
    return {
        "principalId": caller.user_id or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{api_and_stage}/*"}],
        },
        # authorizer context values must be strings, numbers or booleans
        "context": {
            "user_id": caller.user_id or "",
            "project_id": caller.project_id or "",
            "roles": ",".join(caller.roles),
            "service_roles": ",".join(caller.service_roles),
            "service_user_id": caller.service_user_id or "",
        },
    }


def caller_from_authorizer(authorizer: dict[str, Any] | None) -> Caller | None:
    """The caller the authorizer passed on (``requestContext.authorizer`` of an API event); None
    when there is none (the API answers 401: it never takes identity from client headers)."""
    authorizer = authorizer or {}
    if not authorizer.get("project_id") and not authorizer.get("user_id"):
        return None
    return Caller(
        # the context carries "" for None (strings only): "" is no project, never an owner
        user_id=authorizer.get("user_id") or None,
        project_id=authorizer.get("project_id") or None,
        roles=_listed(authorizer.get("roles")),
        service_roles=_listed(authorizer.get("service_roles")),
        service_user_id=authorizer.get("service_user_id") or None,
    )


def _listed(roles: Any) -> list[str]:
    # API Gateway's context holds strings: the roles comma-joined
    return roles.split(",") if isinstance(roles, str) else list(roles or [])

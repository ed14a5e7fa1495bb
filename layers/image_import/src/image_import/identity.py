"""Identity: bearer tokens -> request context, and the API Gateway authorizer's answer.

The token-file backend reads ``local-tokens.yaml`` from the configuration directory.
"""

from __future__ import annotations

from typing import Any

from image_import.config import Settings
from image_import.models import RequestContext


class NotAuthenticated(Exception):
    """API Gateway answers 401 when a REQUEST authorizer raises with the message 'Unauthorized'."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def authenticate(token: str | None, settings: Settings) -> RequestContext:
    identity = settings.tokens.get(token or "")
    if identity is None:
        raise NotAuthenticated()
    return RequestContext(
        user_id=identity.user_id,
        project_id=identity.project_id,
        roles=list(identity.roles),
        service_roles=list(identity.service_roles),
        service_user_id=identity.service_user_id,
    )


def authorizer_response(context: RequestContext, method_arn: str) -> dict[str, Any]:
    """Allow the whole API for this caller, passing who they are in the authorizer context."""
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> arn:...:api-id/stage/*
    api_and_stage = "/".join(method_arn.split("/", 2)[:2])
    return {
        "principalId": context.user_id or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{api_and_stage}/*"}],
        },
        # authorizer context values must be strings, numbers or booleans
        "context": {
            "user_id": context.user_id or "",
            "project_id": context.project_id or "",
            "roles": ",".join(context.roles),
            "service_roles": ",".join(context.service_roles),
            "service_user_id": context.service_user_id or "",
        },
    }


def token_from(headers: dict[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == "x-auth-token":
            return value
    return None

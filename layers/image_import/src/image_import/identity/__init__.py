"""Identity: bearer tokens -> request context, and the API Gateway authorizer's answer.

Three backends, chosen by ``[identity] backend`` in ``glance-api.conf``:

* ``token_file`` (default): ``local-tokens.yaml`` in the configuration directory;
* ``dynamodb``: the tokens table (``image_import.identity.token_table``; SHA-256 of each token, with expiry);
* ``keystone``: Keystone's ``GET /v3/auth/tokens`` (``image_import.identity.keystone``).

Each is imported only when configured, so the authorizer's cold start pays for one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Protocol

from image_import.settings import DevIdentity, Settings


class NotAuthenticated(Exception):
    """API Gateway answers 401 when a REQUEST authorizer raises with the message 'Unauthorized'."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the authorizer passes it on (the API makes its RequestContext from it).

    A dataclass, not the pydantic RequestContext: importing the models costs the authorizer
    ~300 ms of cold start for five strings.
    """

    user_id: str | None
    project_id: str | None
    roles: list[str] = field(default_factory=list)  # lower-cased, as Glance has them
    service_roles: list[str] = field(default_factory=list)
    service_user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenValidator(Protocol):
    def validate(self, token: str) -> DevIdentity:
        """Who the token belongs to; NotAuthenticated for unknown, expired or revoked tokens."""
        ...


class TokenFile:
    def __init__(self, tokens: dict[str, DevIdentity]):
        self.tokens = tokens

    def validate(self, token: str) -> DevIdentity:
        identity = self.tokens.get(token)
        if identity is None:
            raise NotAuthenticated()
        return identity


@functools.cache
def validator_for(settings: Settings) -> TokenValidator:
    """One validator per settings, kept for the container's life (Keystone's cache lives in it)."""
    if settings.identity_backend == "keystone":
        from image_import.identity.keystone import KeystoneValidator

        assert settings.keystone is not None
        return KeystoneValidator(settings.keystone)
    if settings.identity_backend == "dynamodb":
        from image_import.identity.token_table import TokenTable

        return TokenTable()
    return TokenFile(settings.tokens)


def authenticate(
    token: str | None,
    settings: Settings,
    service_token: str | None = None,
    *,
    validator: TokenValidator | None = None,
) -> Caller:
    """The caller's identity; a service token (X-Service-Token) adds service roles and the service user."""
    if not token:
        raise NotAuthenticated()
    validator = validator or validator_for(settings)
    identity = validator.validate(token)
    service_roles, service_user_id = list(identity.service_roles), identity.service_user_id
    if service_token:
        # as keystonemiddleware: an invalid service token fails the request
        service = validator.validate(service_token)
        service_roles, service_user_id = list(service.roles), service.user_id
    return Caller(
        user_id=identity.user_id,
        project_id=identity.project_id,
        roles=[r.lower() for r in identity.roles],
        service_roles=[r.lower() for r in service_roles],
        service_user_id=service_user_id,
    )


def authorizer_response(context: Caller, method_arn: str) -> dict[str, Any]:
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

"""Bearer token -> Caller, through the backend ``[identity] backend`` names."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from image_import.identity.token_file import TokenFile
from image_import.models.caller import Caller, NotAuthenticated, TokenValidator

if TYPE_CHECKING:
    from image_import.settings import Settings


@functools.cache
def validator_for(settings: Settings) -> TokenValidator:
    """One validator per settings, kept for the container's life (Keystone's cache lives in it)."""
    if settings.identity_backend == "keystone":
        from image_import.identity.keystone import KeystoneValidator

        assert settings.keystone is not None
        return KeystoneValidator(settings.keystone)
    if settings.identity_backend == "dynamodb":
        from image_import.adapters.tokens import DynamoTokenStore
        from image_import.identity.token_table import TokenTable

        return TokenTable(DynamoTokenStore.of_this_function())
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
    caller = validator.validate(token)
    if service_token:
        # as keystonemiddleware: an invalid service token fails the request
        service = validator.validate(service_token)
        return Caller(caller.user_id, caller.project_id, caller.roles, service.roles, service.user_id)
    return caller

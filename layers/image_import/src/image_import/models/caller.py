"""Who is calling: the one value every identity backend answers with, and their common contract.

A stdlib dataclass, not pydantic: the authorizer builds one per request and must not pay
pydantic's import on its cold start. The API turns it into its RequestContext
(``RequestContext.of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class NotAuthenticated(Exception):
    """API Gateway answers 401 when a REQUEST authorizer raises with the message 'Unauthorized'."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(r).strip().lower() for r in roles if str(r).strip())


@dataclass(frozen=True)
class Caller:
    user_id: str | None
    project_id: str | None  # None for domain- or system-scoped Keystone tokens (never "")
    roles: tuple[str, ...] = ()  # lower-cased, as Glance has them
    # a service presenting its token too (Glance: X-Service-Roles and the service user)
    service_roles: tuple[str, ...] = ()
    service_user_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "project_id", self.project_id or None)
        object.__setattr__(self, "roles", _roles(self.roles))
        object.__setattr__(self, "service_roles", _roles(self.service_roles))


class TokenValidator(Protocol):
    def validate(self, token: str) -> Caller:
        """Who the token belongs to; NotAuthenticated for unknown, expired or revoked tokens."""
        ...

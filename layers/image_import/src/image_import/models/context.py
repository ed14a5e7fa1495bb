"""Who is calling, for one request: carried in API events and in the workflow input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

if TYPE_CHECKING:
    from image_import.models.caller import Caller


class RequestContext(BaseModel):
    user_id: str | None = None
    project_id: str | None = None
    roles: list[str] = Field(default_factory=list)
    # set when the caller presents a service token too (Glance: X-Service-Roles, service user)
    service_roles: list[str] = Field(default_factory=list)
    service_user_id: str | None = None
    request_id: str = ""
    # Glance's context.is_admin: the policy's ``context_is_admin`` rule, decided once per request
    # (policy.rules.admin_context); never "has role admin", never for a caller without a project
    is_admin: bool = False

    @classmethod
    def of(cls, caller: Caller, request_id: str) -> RequestContext:
        """The context of one request by this caller (the API makes it from the authorizer's Caller;
        ``policy.rules.admin_context`` then decides ``is_admin``)."""
        return cls(
            user_id=caller.user_id,
            project_id=caller.project_id,
            roles=list(caller.roles),
            service_roles=list(caller.service_roles),
            service_user_id=caller.service_user_id,
            request_id=request_id,
        )

    @field_validator("roles", "service_roles", mode="before")
    @classmethod
    def _lower_roles(cls, roles):
        # Glance lower-cases roles; the authorizer context carries them comma-joined
        if isinstance(roles, str):
            roles = roles.split(",")
        return [str(r).strip().lower() for r in roles if str(r).strip()]

    @field_validator("project_id", "user_id", "service_user_id", mode="before")
    @classmethod
    def _no_empty_ids(cls, value):
        # "" is no project: domain- and system-scoped tokens own nothing (never match an owner "")
        return value or None

    @property
    def has_project(self) -> bool:
        """Project-scoped: Glance's rules are all ``scope_types=['project']``."""
        return self.project_id is not None

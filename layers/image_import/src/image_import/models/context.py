"""Who is calling: built by the authorizer, carried in API events and in the workflow input."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class RequestContext(BaseModel):
    user_id: str | None = None
    project_id: str | None = None
    roles: list[str] = Field(default_factory=list)
    # set when the caller presents a service token too (Glance: X-Service-Roles, service user)
    service_roles: list[str] = Field(default_factory=list)
    service_user_id: str | None = None
    request_id: str = ""

    @field_validator("roles", "service_roles", mode="before")
    @classmethod
    def _lower_roles(cls, roles):
        # Glance lower-cases roles; the authorizer context carries them comma-joined
        if isinstance(roles, str):
            roles = roles.split(",")
        return [str(r).strip().lower() for r in roles if str(r).strip()]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

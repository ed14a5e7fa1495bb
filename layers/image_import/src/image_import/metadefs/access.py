"""Who may see and change a namespace: Glance's database visibility, then its metadef policy rules.

As Glance: a namespace the database layer hides (private, another project's, caller not admin) is
404 with the calling API's "not found" message; one the caller sees but whose rule refuses is 403,
unless the caller also fails ``get_metadef_namespace``, which is 404 (existence stays hidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import Forbidden, NotFound
from image_import.policy.rules import engine

if TYPE_CHECKING:
    from image_import.models import RequestContext
    from image_import.settings import Settings

RESOURCE_NOT_FOUND = "The resource could not be found."  # WebOb's HTTPNotFound() without explanation


def visible(context: RequestContext, namespace: dict[str, Any]) -> bool:
    """Glance's ``_is_namespace_visible``: admins, public namespaces, ownerless ones, the owner's project."""
    if context.is_admin or namespace.get("owner") is None or namespace.get("visibility") == "public":
        return True
    return context.project_id is not None and context.project_id == namespace.get("owner")


def target(context: RequestContext, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Glance's MetadefAPIPolicy target: the namespace's owner and visibility, or the caller's project."""
    if namespace is None:
        return {"project_id": context.project_id}
    return {"project_id": namespace.get("owner"), "visibility": namespace.get("visibility")}


def allows(context: RequestContext, rule: str, settings: Settings, namespace: dict[str, Any] | None = None) -> bool:
    return engine(settings).allows(rule, target(context, namespace), context)


def enforce(context: RequestContext, rule: str, settings: Settings, namespace: dict[str, Any] | None = None) -> None:
    """Glance's ``MetadefAPIPolicy._enforce``: refused is 403, or 404 where the namespace must stay hidden."""
    if allows(context, rule, settings, namespace):
        return
    if rule == "get_metadef_namespace" or not allows(context, "get_metadef_namespace", settings, namespace):
        raise NotFound(RESOURCE_NOT_FOUND)
    raise Forbidden(f"You are not authorized to complete {rule} action.")


def require_visible(
    context: RequestContext,
    namespace: dict[str, Any] | None,
    name: str,
    hidden_message: str,
    missing_message: str | None = None,
) -> dict[str, Any]:
    """The namespace, if the database layer shows it to the caller; 404 otherwise. Glance's APIs word the
    two cases differently: ``missing_message`` for a name that does not exist (default: as hidden)."""
    if namespace is None:
        raise NotFound(missing_message or hidden_message)
    if not visible(context, namespace):
        raise NotFound(hidden_message)
    return namespace

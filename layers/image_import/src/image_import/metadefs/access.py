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
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.models.metadef import MetadefNamespace
    from image_import.settings import Settings

RESOURCE_NOT_FOUND = "The resource could not be found."  # WebOb's HTTPNotFound() without explanation


def records(ports: Ports) -> MetadefRecords:
    """The metadefs table; a deployment without one answers every metadefs call 404, before anything else."""
    if ports.metadefs is None:
        raise NotFound(RESOURCE_NOT_FOUND)
    return ports.metadefs


def visible(context: RequestContext, namespace: MetadefNamespace) -> bool:
    """Glance's ``_is_namespace_visible``: admins, public namespaces, ownerless ones, the owner's project."""
    if context.is_admin or namespace.owner is None or namespace.visibility == "public":
        return True
    return context.project_id is not None and context.project_id == namespace.owner


def target(context: RequestContext, namespace: MetadefNamespace | None = None) -> dict[str, Any]:
    """Glance's MetadefAPIPolicy target: the namespace's owner and visibility, or the caller's project."""
    if namespace is None:
        return {"project_id": context.project_id}
    return {"project_id": namespace.owner, "visibility": namespace.visibility}


def allows(context: RequestContext, rule: str, settings: Settings, namespace: MetadefNamespace | None = None) -> bool:
    return engine(settings).allows(rule, target(context, namespace), context)


def enforce(context: RequestContext, rule: str, settings: Settings, namespace: MetadefNamespace | None = None) -> None:
    """Glance's ``MetadefAPIPolicy._enforce``: refused is 403, or 404 where the namespace must stay hidden."""
    if allows(context, rule, settings, namespace):
        return
    if rule == "get_metadef_namespace" or not allows(context, "get_metadef_namespace", settings, namespace):
        raise NotFound(RESOURCE_NOT_FOUND)
    raise Forbidden(f"You are not authorized to complete {rule} action.")


def missing(name: str) -> str:
    """The namespace API's 404 for a name that does not exist."""
    return f"Metadata definition namespace={name} was not found."


def require_visible(
    context: RequestContext,
    namespace: MetadefNamespace | None,
    name: str,
    hidden_message: str,
    missing_message: str | None = None,
) -> MetadefNamespace:
    """The namespace, if the database layer shows it to the caller; 404 otherwise. Glance's APIs word the
    two cases differently: ``missing_message`` for a name that does not exist (default: as hidden)."""
    if namespace is None:
        raise NotFound(missing_message or hidden_message)
    if not visible(context, namespace):
        raise NotFound(hidden_message)
    return namespace


def holder(
    context: RequestContext, store: MetadefRecords, name: str, *, missing: str | None = None
) -> MetadefNamespace:
    """The namespace for the sub-resource APIs: "Namespace <name> not found" when hidden (and, unless
    ``missing`` says otherwise, when it does not exist)."""
    return require_visible(context, store.namespace(name), name, f"Namespace {name} not found", missing)

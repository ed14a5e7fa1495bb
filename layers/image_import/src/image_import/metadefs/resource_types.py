"""Resource types and a namespace's associations with them: /v2/metadefs/resource_types and
/v2/metadefs/namespaces/{ns}/resource_types[/{name}], as Glance 33 answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import Conflict, NotFound
from image_import.metadefs import access, children, requests
from image_import.metadefs.shapes import ASSOCIATION_FIELDS, present_association, shown
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.settings import Settings


def list_resource_types(context: RequestContext, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    access.enforce(context, "list_metadef_resource_types", settings)
    return {"resource_types": [shown(rt, ("name", "created_at", "updated_at")) for rt in store.resource_types()]}


def list_associations(context: RequestContext, name: str, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "list_metadef_resource_types", settings, namespace)
    associations = []
    if access.allows(context, "get_metadef_resource_type", settings, namespace):
        associations = [present_association(a) for a in store.contents(name, "resource_type")]
    return {"resource_type_associations": associations}


def create_association(
    context: RequestContext, name: str, body: Any, settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "resource_type", requests.TIMESTAMPS)
    namespace = access.holder(context, store, name)
    access.enforce(context, "add_metadef_resource_type_association", settings, namespace)
    return present_association(associate(store, name, body, utcnow()))


def associate(store: MetadefRecords, namespace: str, body: dict[str, Any], now: str) -> dict[str, Any]:
    record = {key: body[key] for key in ASSOCIATION_FIELDS if body.get(key) is not None}
    record.update(created_at=now, updated_at=now)
    # the resource type itself exists from its first association on (Glance creates it then)
    store.add_resource_type({"name": record["name"], "protected": False, "created_at": now, "updated_at": now})
    if not store.add(namespace, "resource_type", record["name"], record):
        raise Conflict(
            f"The metadata definition resource-type association of resource-type={record['name']} to "
            f"namespace={namespace} already exists."
        )
    return record


def association_names(store: MetadefRecords, name: str) -> set[str]:
    return {a["name"] for a in store.contents(name, "resource_type")}


def delete_association(
    context: RequestContext, name: str, resource_type: str, settings: Settings, ports: Ports
) -> None:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "remove_metadef_resource_type_association", settings, namespace)
    if store.child(name, "resource_type", resource_type) is None:
        raise NotFound(f"Failed to find resource type {resource_type} to delete")
    children.refuse_if_protected(namespace, f"resource-type-association {resource_type}")
    store.remove(name, "resource_type", resource_type)

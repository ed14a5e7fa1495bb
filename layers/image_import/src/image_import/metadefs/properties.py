"""A namespace's properties: /v2/metadefs/namespaces/{ns}/properties[/{name}], as Glance 33 answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import NotFound
from image_import.metadefs import access, children, requests
from image_import.metadefs.shapes import present_property, property_schema

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.settings import Settings


def list_properties(context: RequestContext, name: str, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "get_metadef_properties", settings, namespace)
    return {"properties": {p["name"]: p["schema"] for p in store.contents(name, "property")}}


def create_property(context: RequestContext, name: str, body: Any, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    body = _checked(context, store, name, body, "add_metadef_property", settings)
    return present_property(add_property(store, name, body["name"], body))


def _checked(
    context: RequestContext, store: MetadefRecords, name: str, body: Any, rule: str, settings: Settings
) -> dict[str, Any]:
    """A property definition, checked before the namespace is read, then ``rule`` on that namespace."""
    body = requests.checked(body, "property", requests.TIMESTAMPS)
    requests.check_property(body)
    access.enforce(context, rule, settings, access.holder(context, store, name))
    return body


def add_property(store: MetadefRecords, namespace: str, prop_name: str, definition: dict[str, Any]) -> dict[str, Any]:
    return children.add(store, namespace, "property", {"name": prop_name, "schema": property_schema(definition)})


def _property(store: MetadefRecords, namespace: str, prop_name: str) -> dict[str, Any]:
    record = store.child(namespace, "property", prop_name)
    if record is None:
        raise NotFound(f"Could not find property {prop_name}")
    return record


def show_property(
    context: RequestContext, name: str, prop_name: str, params: dict[str, list[str]], settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "get_metadef_property", settings, namespace)
    resource_type = (params.get("resource_type") or [""])[-1]
    if resource_type:
        access.enforce(context, "get_metadef_resource_type", settings, namespace)
        association = store.child(name, "resource_type", resource_type)
        if association is None and resource_type not in {rt["name"] for rt in store.resource_types()}:
            raise NotFound(f"The metadata definition resource-type with name={resource_type}, was not found.")
        if association is None:
            raise NotFound(
                f"The metadata definition resource-type association of resource-type={resource_type} to "
                f"namespace={name}, was not found."
            )
        prefix = association.get("prefix")
        if not (prefix and prop_name.startswith(prefix)):
            raise NotFound(
                f"Property {prop_name} does not start with the expected resource type association prefix of '{prefix}'."
            )
        prop_name = prop_name[len(prefix) :]
    return present_property(_property(store, name, prop_name))


def update_property(
    context: RequestContext, name: str, prop_name: str, body: Any, settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    body = _checked(context, store, name, body, "modify_metadef_property", settings)
    old = _property(store, name, prop_name)
    record = {"name": body["name"], "schema": property_schema(body), "_seq": old.get("_seq")}
    children.save(store, name, "property", prop_name, record)
    return present_property(record)


def delete_property(context: RequestContext, name: str, prop_name: str, settings: Settings, ports: Ports) -> None:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "remove_metadef_property", settings, namespace)
    _property(store, name, prop_name)
    children.refuse_if_protected(namespace, f"property {prop_name}")
    store.remove(name, "property", prop_name)

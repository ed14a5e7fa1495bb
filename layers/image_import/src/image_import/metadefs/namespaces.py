"""Namespaces: /v2/metadefs/namespaces[/{ns}], and the DELETEs of all a namespace's objects, properties or
tags, as Glance 33 answers. A namespace is created with what it contains, or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from image_import.errors import Conflict, Forbidden, NotFound
from image_import.metadefs import access, children, requests
from image_import.metadefs.objects import add_object
from image_import.metadefs.properties import add_property
from image_import.metadefs.resource_types import associate, association_names
from image_import.metadefs.shapes import (
    ASSOCIATION_FIELDS,
    before_links,
    in_order,
    prefix_names,
    present_association,
    present_namespace,
    present_object,
    record_key,
    shown,
)
from image_import.metadefs.tags import add_tag
from image_import.models.metadef import MetadefNamespace
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.settings import Settings

# what a namespace may be created with, and the rule each needs besides add_metadef_namespace
CONTENTS = (
    ("resource_type_associations", "add_metadef_resource_type_association"),
    ("objects", "add_metadef_object"),
    ("properties", "add_metadef_property"),
    ("tags", "add_metadef_tag"),
)


def list_namespaces(
    context: RequestContext,
    params: dict[str, list[str]],
    settings: Settings,
    ports: Ports,
    size_of: Callable[[dict[str, Any]], int] | None = None,
    budget: int = 0,
) -> dict[str, Any]:
    """The namespaces the query asks for; with ``size_of`` the page also ends before the namespace
    (as listed, with its associations) that would take it past ``budget`` bytes, ``next`` going on
    from there (as images.paging.take)."""
    store = access.records(ports)
    query = requests.last_values(params)
    limit = requests.limit(query.get("limit"), settings, allow_zero=True)
    sort_dir = requests.sort_dir(query.get("sort_dir", "desc"))
    sort_key = query.get("sort_key", "created_at")
    requests.visibility(query, ("public", "private"))
    visibility = query.get("visibility")
    access.enforce(context, "get_metadef_namespaces", settings)
    access.enforce(context, "list_metadef_resource_types", settings)
    namespaces = [ns for ns in store.namespaces() if access.visible(context, ns)]
    if visibility:
        namespaces = [ns for ns in namespaces if ns.visibility == visibility]
    if query.get("resource_types"):
        wanted = set(query["resource_types"].split(","))
        namespaces = [ns for ns in namespaces if wanted & association_names(store, ns.namespace)]
    namespaces = in_order(namespaces, sort_key, sort_dir, MetadefNamespace.document)
    if "marker" in query:
        marker = store.namespace(query["marker"])
        if marker is None:
            raise NotFound(access.missing(query["marker"]))
        if not access.visible(context, marker):
            raise Forbidden(f"Forbidding request, metadata definition namespace={query['marker']} is not visible.")
        names = [ns.namespace for ns in namespaces]
        namespaces = namespaces[names.index(marker.namespace) + 1 :] if marker.namespace in names else []
    namespaces = namespaces[:limit]
    listed_ones = [ns for ns in namespaces if access.allows(context, "get_metadef_namespace", settings, ns)]
    listed: list[dict[str, Any]] = []
    used = 0
    for ns in listed_ones:
        document = present_namespace(ns)
        associations = [present_association(a) for a in store.contents(ns.namespace, "resource_type")]
        if associations:
            document = before_links(document, resource_type_associations=associations)
        if size_of is not None:
            used += size_of(document)
            if listed and used > budget:
                return {"namespaces": listed, "next": listed[-1]["namespace"]}
        listed.append(document)
    body: dict[str, Any] = {"namespaces": listed}
    if listed and len(listed) == limit:
        body["next"] = listed_ones[-1].namespace
    return body


def create_namespace(context: RequestContext, body: Any, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "namespace")
    requests.check_properties(body)
    for obj in body.get("objects") or []:
        requests.check_properties(obj)
    access.enforce(context, "add_metadef_namespace", settings)
    for key, rule in CONTENTS:
        if body.get(key):
            access.enforce(context, rule, settings)
    name, now = body["namespace"], utcnow()
    record = MetadefNamespace(
        namespace=name,
        display_name=body.get("display_name"),
        description=body.get("description"),
        visibility=body.get("visibility") or "private",
        protected=bool(body.get("protected")),
        owner=body["owner"] if body.get("owner") is not None else context.project_id,
        created_at=now,
        updated_at=now,
    )
    if not store.add_namespace(record):
        raise Conflict(f"The metadata definition namespace={name} already exists.")
    try:
        contained = _fill(store, name, body, now)
    except Exception:
        store.remove_all(name)  # as Glance: a namespace that could not be made whole is not kept
        raise
    return before_links(present_namespace(record), **contained)


def _fill(store: MetadefRecords, name: str, body: dict[str, Any], now: str) -> dict[str, Any]:
    """The contents a new namespace is created with, stored; what the create answers of them."""
    contained: dict[str, Any] = {}
    if body.get("resource_type_associations"):
        contained["resource_type_associations"] = [
            shown(associate(store, name, association, now), ASSOCIATION_FIELDS)
            for association in body["resource_type_associations"]
        ]
    if body.get("properties"):
        for prop_name, definition in body["properties"].items():
            add_property(store, name, prop_name, definition)
        contained["properties"] = body["properties"]
    if body.get("objects"):
        for obj in body["objects"]:
            add_object(store, name, obj, now)
        contained["objects"] = body["objects"]
    if body.get("tags"):
        for tag in body["tags"]:
            add_tag(store, name, tag["name"], now)
        contained["tags"] = [{"name": tag["name"]} for tag in body["tags"]]
    return contained


def show_namespace(
    context: RequestContext, name: str, params: dict[str, list[str]], settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    namespace = store.namespace(name)
    if namespace is None:
        raise NotFound(access.missing(name))
    if not access.visible(context, namespace):
        raise NotFound(access.RESOURCE_NOT_FOUND)
    access.enforce(context, "get_metadef_namespace", settings, namespace)
    for rule in ("list_metadef_resource_types", "get_metadef_objects", "get_metadef_properties", "get_metadef_tags"):
        access.enforce(context, rule, settings, namespace)
    contained: dict[str, Any] = {}
    associations = [present_association(a) for a in store.contents(name, "resource_type")]
    if associations:
        contained["resource_type_associations"] = associations
    properties = {p["name"]: p["schema"] for p in store.contents(name, "property")}
    if properties:
        contained["properties"] = properties
    objects = [present_object(name, o) for o in store.contents(name, "object")]
    if objects:
        contained["objects"] = objects
    resource_type = (params.get("resource_type") or [""])[-1]
    if resource_type:
        prefix_names(contained, resource_type)
    tags = [{"name": t["name"]} for t in reversed(store.contents(name, "tag"))]
    if tags:
        contained["tags"] = tags
    return before_links(present_namespace(namespace), **contained)


def update_namespace(context: RequestContext, name: str, body: Any, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "namespace")
    namespace = access.holder(context, store, name)
    access.enforce(context, "modify_metadef_namespace", settings, namespace)
    record = namespace.model_copy(  # all but its creation (time and order) from the body
        update={
            "namespace": body["namespace"],
            "display_name": body.get("display_name"),
            "description": body.get("description"),
            "visibility": body.get("visibility") or "private",
            "protected": bool(body.get("protected")),
            "owner": body.get("owner") or context.project_id,
            "updated_at": utcnow(),
        }
    )
    if record.namespace == name:
        store.put_namespace(record)
    else:
        _rename(store, name, record)
    return present_namespace(record)


def _rename(store: MetadefRecords, name: str, record: MetadefNamespace) -> None:
    if not store.add_namespace(record):
        raise Conflict(
            "Invalid update. It would result in a duplicate metadata definition namespace with the same "
            f"name of {record.namespace}"
        )
    try:
        for kind in ("object", "property", "tag", "resource_type"):
            for child in store.contents(name, kind):
                store.put(record.namespace, kind, record_key(kind, child["name"]), child)
    except Exception:
        store.remove_all(record.namespace)  # half a copy is no namespace: the old one stays whole
        raise
    store.remove_all(name)


def delete_namespace(context: RequestContext, name: str, settings: Settings, ports: Ports) -> None:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "delete_metadef_namespace", settings, namespace)
    children.refuse_if_protected(namespace, f"namespace {namespace.namespace}")
    store.remove_all(name)


def delete_contents(context: RequestContext, name: str, kind: str, settings: Settings, ports: Ports) -> None:
    """DELETE /v2/metadefs/namespaces/{ns}/objects|properties|tags: Glance checks the namespace's
    delete rule (and delete_metadef_tags for tags), and refuses a protected namespace."""
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "delete_metadef_namespace", settings, namespace)
    if kind == "tag":
        access.enforce(context, "delete_metadef_tags", settings, namespace)
    children.refuse_if_protected(namespace, f"namespace {namespace.namespace}")
    store.remove_all(name, kind)

"""A namespace's tags: /v2/metadefs/namespaces/{ns}/tags[/{name}], as Glance 33 answers. Tag names are
unique whatever their case (shapes.record_key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import BadRequest, NotFound
from image_import.metadefs import access, children, requests
from image_import.metadefs.shapes import in_order, present_tag, record_key
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.settings import Settings


def list_tags(
    context: RequestContext, name: str, params: dict[str, list[str]], settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    query = requests.last_values(params)
    limit = requests.limit(query["limit"], settings) if query.get("limit") else None
    sort_dir = requests.sort_dir(query.get("sort_dir", "desc"))
    requests.visibility(query, ("public", "private", "shared"))
    namespace = access.holder(context, store, name)
    access.enforce(context, "get_metadef_tags", settings, namespace)
    tags = in_order(store.contents(name, "tag"), query.get("sort_key", "created_at"), sort_dir)
    if query.get("marker"):
        marker = _tag(store, name, query["marker"])
        keys = [record_key("tag", t["name"]) for t in tags]
        tags = tags[keys.index(record_key("tag", marker["name"])) + 1 :]
    if limit is not None:
        tags = tags[:limit]
    return {"tags": [{"name": t["name"]} for t in tags]}


def create_tag(context: RequestContext, name: str, tag_name: str, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    if len(tag_name) > 80:
        raise BadRequest(f"Provided object does not match schema 'tag': {tag_name!r} is too long")
    access.enforce(context, "add_metadef_tag", settings, namespace)
    return present_tag(add_tag(store, name, tag_name, utcnow()))


def add_tag(store: MetadefRecords, namespace: str, tag_name: str, now: str) -> dict[str, Any]:
    return children.add(store, namespace, "tag", {"name": tag_name, "created_at": now, "updated_at": now})


def create_tags(
    context: RequestContext, name: str, body: Any, append: bool, settings: Settings, ports: Ports
) -> dict[str, Any]:
    """POST .../tags: the body's tags replace the namespace's (added to them with ``append``)."""
    store = access.records(ports)
    body = requests.checked(body, "tags", requests.TIMESTAMPS, schema=requests.TAGS_BODY_SCHEMA)
    namespace = access.holder(context, store, name)
    access.enforce(context, "add_metadef_tags", settings, namespace)
    names = [tag["name"] for tag in body.get("tags") or []]
    seen: set[str] = set()
    for tag_name in names:  # all refused before anything changes, as Glance's transaction does
        key = record_key("tag", tag_name)
        if key in seen or (append and store.child(name, "tag", key) is not None):
            raise children.name_taken("tag", tag_name, name)
        seen.add(key)
    if names and not append:
        store.remove_all(name, "tag")
    now = utcnow()
    for tag_name in names:
        add_tag(store, name, tag_name, now)
    return {"tags": [{"name": tag_name} for tag_name in names]}


def _tag(store: MetadefRecords, namespace: str, tag_name: str) -> dict[str, Any]:
    record = store.child(namespace, "tag", record_key("tag", tag_name))
    if record is None:
        raise NotFound(f"Could not find metadata tag {tag_name}")
    return record


def show_tag(context: RequestContext, name: str, tag_name: str, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "get_metadef_tag", settings, namespace)
    return present_tag(_tag(store, name, tag_name))


def update_tag(
    context: RequestContext, name: str, tag_name: str, body: Any, settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "tag", requests.TIMESTAMPS)
    namespace = access.holder(context, store, name)
    access.enforce(context, "modify_metadef_tag", settings, namespace)
    old = _tag(store, name, tag_name)
    record = {**old, "name": body["name"], "updated_at": utcnow()}
    children.save(store, name, "tag", old["name"], record)
    return present_tag(record)


def delete_tag(context: RequestContext, name: str, tag_name: str, settings: Settings, ports: Ports) -> None:
    store = access.records(ports)
    namespace = access.holder(context, store, name)
    access.enforce(context, "delete_metadef_tag", settings, namespace)
    tag = _tag(store, name, tag_name)
    children.refuse_if_protected(namespace, f"tag {tag['name']}")
    store.remove(name, "tag", record_key("tag", tag["name"]))

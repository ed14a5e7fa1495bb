"""A namespace's objects: /v2/metadefs/namespaces/{ns}/objects[/{name}], as Glance 33 answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import NotFound
from image_import.metadefs import access, children, requests
from image_import.metadefs.shapes import OBJECT_FIELDS, present_object, present_written_object
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords, Ports
    from image_import.models import RequestContext
    from image_import.settings import Settings


def list_objects(
    context: RequestContext, name: str, params: dict[str, list[str]], settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    requests.list_params(params, settings, visibilities=("public", "private", "shared"))
    namespace = access.holder(context, store, name, missing=access.missing(name))
    access.enforce(context, "get_metadef_objects", settings, namespace)
    objects = []
    if access.allows(context, "get_metadef_object", settings, namespace):
        objects = [present_object(name, o) for o in store.contents(name, "object")]
    return {"objects": objects, "schema": "v2/schemas/metadefs/objects"}


def create_object(context: RequestContext, name: str, body: Any, settings: Settings, ports: Ports) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "object")
    for definition in (body.get("properties") or {}).values():
        requests.validate(definition, "property", without_name=True)
        requests.check_property(definition)
    namespace = access.holder(context, store, name, missing=access.missing(name))
    access.enforce(context, "add_metadef_object", settings, namespace)
    record = add_object(store, name, body, utcnow())
    return present_written_object(name, record, [key for key in OBJECT_FIELDS if key in body])


def add_object(store: MetadefRecords, namespace: str, body: dict[str, Any], now: str) -> dict[str, Any]:
    record = {key: body[key] for key in OBJECT_FIELDS if body.get(key) is not None}
    record.update(created_at=now, updated_at=now)
    return children.add(store, namespace, "object", record)


def _object(store: MetadefRecords, namespace: str, object_name: str) -> dict[str, Any]:
    record = store.child(namespace, "object", object_name)
    if record is None:
        raise NotFound(f"Could not find metadata object {object_name}")
    return record


def show_object(
    context: RequestContext, name: str, object_name: str, settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    namespace = access.holder(context, store, name, missing=access.missing(name))
    access.enforce(context, "get_metadef_object", settings, namespace)
    return present_object(name, _object(store, name, object_name))


def update_object(
    context: RequestContext, name: str, object_name: str, body: Any, settings: Settings, ports: Ports
) -> dict[str, Any]:
    store = access.records(ports)
    body = requests.checked(body, "object")
    requests.check_properties(body)
    namespace = access.holder(context, store, name, missing=access.missing(name))
    access.enforce(context, "modify_metadef_object", settings, namespace)
    old = _object(store, name, object_name)
    record = {key: body[key] for key in OBJECT_FIELDS if body.get(key) is not None}
    record.update(created_at=old["created_at"], updated_at=utcnow(), _seq=old.get("_seq"))
    children.save(store, name, "object", object_name, record)
    return present_written_object(name, record, OBJECT_FIELDS)


def delete_object(context: RequestContext, name: str, object_name: str, settings: Settings, ports: Ports) -> None:
    store = access.records(ports)
    namespace = access.holder(context, store, name, missing=access.missing(name))
    access.enforce(context, "delete_metadef_object", settings, namespace)
    _object(store, name, object_name)
    children.refuse_if_protected(namespace, f"object {object_name}")
    store.remove(name, "object", object_name)

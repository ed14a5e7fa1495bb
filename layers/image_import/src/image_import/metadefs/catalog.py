"""The metadata definitions API (``/v2/metadefs/...``): namespaces and what they hold, as Glance 33 answers.

Records are plain JSON documents (the shapes Glance returns), kept by a :class:`MetadefRecords` port.
Every call reads the namespace first and applies Glance's visibility and policy (metadefs/access.py)
before anything else; the 404 messages differ between Glance's controllers, and are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from image_import.errors import BadRequest, Conflict, Forbidden, NotFound, check_schema
from image_import.metadefs import access
from image_import.metadefs.schemas import SCHEMAS
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.metadefs import MetadefRecords
    from image_import.models import RequestContext
    from image_import.settings import Settings

NAMESPACE_FIELDS = ("namespace", "display_name", "description", "visibility", "protected", "owner")
# WSME's PropertyType: the attributes Glance keeps of a property definition
PROPERTY_FIELDS = (
    "name", "type", "title", "description", "operators", "default", "readonly", "minimum", "maximum", "enum",
    "pattern", "minLength", "maxLength", "confidential", "items", "uniqueItems", "minItems", "maxItems",
    "additionalItems",
)  # fmt: skip
OBJECT_FIELDS = ("name", "description", "required", "properties")
ASSOCIATION_FIELDS = ("name", "prefix", "properties_target")
READ_ONLY = ("self", "schema", "created_at", "updated_at")


class Metadefs:
    """One request's view of the metadefs: the caller, the settings and the records port."""

    def __init__(self, context: RequestContext, settings: Settings, store: MetadefRecords | None = None):
        if store is None:
            from image_import.adapters.metadefs import DynamoMetadefStore
            from image_import.settings import get_resources

            table = get_resources().metadefs_table
            if not table:
                raise NotFound("The resource could not be found.")
            store = DynamoMetadefStore(table)
        self.context, self.settings, self.store = context, settings, store

    # ================================================================ access
    def _enforce(self, rule: str, namespace: dict[str, Any] | None = None) -> None:
        access.enforce(self.context, rule, self.settings, namespace)

    def _namespace(self, name: str, *, missing: str | None = None) -> dict[str, Any]:
        """The namespace for the sub-resource APIs: "Namespace <name> not found" when hidden (and, unless
        ``missing`` says otherwise, when it does not exist)."""
        return access.require_visible(
            self.context, self.store.namespace(name), name, f"Namespace {name} not found", missing
        )

    @staticmethod
    def _missing(name: str) -> str:
        return f"Metadata definition namespace={name} was not found."

    # ================================================================ objects, properties, tags: one write
    def _add(self, namespace: str, kind: str, record: dict[str, Any], *, update: bool = False) -> dict[str, Any]:
        """A new child record under its name; 409 when the namespace holds one of that name."""
        if not self.store.add(namespace, kind, record_key(kind, record["name"]), record):
            raise _name_taken(kind, record["name"], namespace, update=update)
        return record

    def _save(self, namespace: str, kind: str, old_name: str, record: dict[str, Any]) -> None:
        """An updated child record: in place, or moved to its new name (409 when that name is taken)."""
        old_key = record_key(kind, old_name)
        if record_key(kind, record["name"]) == old_key:
            self.store.put(namespace, kind, old_key, record)
        else:
            self._add(namespace, kind, record, update=True)
            self.store.remove(namespace, kind, old_key)

    # ================================================================ namespaces
    def list_namespaces(
        self, params: dict[str, list[str]], size_of: Callable[[dict[str, Any]], int] | None = None, budget: int = 0
    ) -> dict[str, Any]:
        """The namespaces the query asks for; with ``size_of`` the page also ends before the namespace
        (as listed, with its associations) that would take it past ``budget`` bytes, ``next`` going on
        from there (as images.paging.take)."""
        query = {key: values[-1] for key, values in params.items() if values}
        limit = _limit(query.get("limit"), self.settings, allow_zero=True)
        sort_dir = _sort_dir(query.get("sort_dir", "desc"))
        sort_key = query.get("sort_key", "created_at")
        _visibility(query, ("public", "private"))
        visibility = query.get("visibility")
        self._enforce("get_metadef_namespaces")
        self._enforce("list_metadef_resource_types")
        namespaces = [ns for ns in self.store.namespaces() if access.visible(self.context, ns)]
        if visibility:
            namespaces = [ns for ns in namespaces if ns.get("visibility") == visibility]
        if query.get("resource_types"):
            wanted = set(query["resource_types"].split(","))
            namespaces = [ns for ns in namespaces if wanted & self._association_names(ns["namespace"])]
        namespaces = _sorted(namespaces, sort_key, sort_dir)
        if "marker" in query:
            marker = self.store.namespace(query["marker"])
            if marker is None:
                raise NotFound(self._missing(query["marker"]))
            if not access.visible(self.context, marker):
                raise Forbidden(f"Forbidding request, metadata definition namespace={query['marker']} is not visible.")
            names = [ns["namespace"] for ns in namespaces]
            namespaces = namespaces[names.index(marker["namespace"]) + 1 :] if marker["namespace"] in names else []
        namespaces = namespaces[:limit]
        shown = [ns for ns in namespaces if access.allows(self.context, "get_metadef_namespace", self.settings, ns)]
        listed: list[dict[str, Any]] = []
        used = 0
        for ns in shown:
            document = present_namespace(ns)
            associations = [present_association(a) for a in self.store.contents(ns["namespace"], "resource_type")]
            if associations:
                document = _before_links(document, resource_type_associations=associations)
            if size_of is not None:
                used += size_of(document)
                if listed and used > budget:
                    return {"namespaces": listed, "next": listed[-1]["namespace"]}
            listed.append(document)
        body: dict[str, Any] = {"namespaces": listed}
        if listed and len(listed) == limit:
            body["next"] = shown[-1]["namespace"]
        return body

    def _association_names(self, name: str) -> set[str]:
        return {a["name"] for a in self.store.contents(name, "resource_type")}

    def create_namespace(self, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, READ_ONLY)
        _validate(body, "namespace")
        for definition in (body.get("properties") or {}).values():
            _check_property(definition)
        for obj in body.get("objects") or []:
            for definition in (obj.get("properties") or {}).values():
                _check_property(definition)
        self._enforce("add_metadef_namespace")
        for key, rule in (
            ("resource_type_associations", "add_metadef_resource_type_association"),
            ("objects", "add_metadef_object"),
            ("properties", "add_metadef_property"),
            ("tags", "add_metadef_tag"),
        ):
            if body.get(key):
                self._enforce(rule)
        name, now = body["namespace"], utcnow()
        record = {key: body[key] for key in NAMESPACE_FIELDS if body.get(key) is not None}
        record.setdefault("owner", self.context.project_id)
        record["visibility"] = body.get("visibility") or "private"
        record["protected"] = bool(body.get("protected"))
        record.update(created_at=now, updated_at=now)
        if not self.store.add(name, "namespace", "", record):
            raise Conflict(f"The metadata definition namespace={name} already exists.")
        response = present_namespace(record)
        contained: dict[str, Any] = {}
        try:
            if body.get("resource_type_associations"):
                contained["resource_type_associations"] = [
                    _shown(self._associate(name, association, now), ASSOCIATION_FIELDS)
                    for association in body["resource_type_associations"]
                ]
            if body.get("properties"):
                for prop_name, definition in body["properties"].items():
                    self._add_property(name, prop_name, definition)
                contained["properties"] = body["properties"]
            if body.get("objects"):
                for obj in body["objects"]:
                    self._add_object(name, obj, now)
                contained["objects"] = body["objects"]
            if body.get("tags"):
                for tag in body["tags"]:
                    self._add_tag(name, tag["name"], now)
                contained["tags"] = [{"name": tag["name"]} for tag in body["tags"]]
        except Exception:
            self.store.remove_all(name)  # as Glance: a namespace that could not be made whole is not kept
            raise
        return _before_links(response, **contained)

    def show_namespace(self, name: str, params: dict[str, list[str]]) -> dict[str, Any]:
        namespace = self.store.namespace(name)
        if namespace is None:
            raise NotFound(self._missing(name))
        if not access.visible(self.context, namespace):
            raise NotFound(access.RESOURCE_NOT_FOUND)
        self._enforce("get_metadef_namespace", namespace)
        for rule in (
            "list_metadef_resource_types",
            "get_metadef_objects",
            "get_metadef_properties",
            "get_metadef_tags",
        ):
            self._enforce(rule, namespace)
        contained: dict[str, Any] = {}
        associations = [present_association(a) for a in self.store.contents(name, "resource_type")]
        if associations:
            contained["resource_type_associations"] = associations
        properties = {p["name"]: p["schema"] for p in self.store.contents(name, "property")}
        if properties:
            contained["properties"] = properties
        objects = [present_object(name, o) for o in self.store.contents(name, "object")]
        if objects:
            contained["objects"] = objects
        resource_type = (params.get("resource_type") or [""])[-1]
        if resource_type:
            _prefix_names(contained, resource_type)
        tags = [{"name": t["name"]} for t in reversed(self.store.contents(name, "tag"))]
        if tags:
            contained["tags"] = tags
        return _before_links(present_namespace(namespace), **contained)

    def update_namespace(self, name: str, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, READ_ONLY)
        _validate(body, "namespace")
        namespace = self._namespace(name)
        self._enforce("modify_metadef_namespace", namespace)
        record = {
            "namespace": body["namespace"],
            "display_name": body.get("display_name"),
            "description": body.get("description"),
            "visibility": body.get("visibility") or "private",
            "protected": bool(body.get("protected")),
            "owner": body.get("owner") or self.context.project_id,
            "created_at": namespace["created_at"],
            "updated_at": utcnow(),
            "_seq": namespace.get("_seq"),
        }
        record = {key: value for key, value in record.items() if value is not None}
        new_name = body["namespace"]
        if new_name == name:
            self.store.put(name, "namespace", "", record)
        else:
            self._rename_namespace(name, new_name, record)
        return present_namespace(record)

    def _rename_namespace(self, name: str, new_name: str, record: dict[str, Any]) -> None:
        if not self.store.add(new_name, "namespace", "", record):
            raise Conflict(
                "Invalid update. It would result in a duplicate metadata definition namespace with the same "
                f"name of {new_name}"
            )
        try:
            for kind, key in (("object", "name"), ("property", "name"), ("tag", "name"), ("resource_type", "name")):
                for child in self.store.contents(name, kind):
                    self.store.put(new_name, kind, record_key(kind, child[key]), child)
        except Exception:
            self.store.remove_all(new_name)  # half a copy is no namespace: the old one stays whole
            raise
        self.store.remove_all(name)

    def delete_namespace(self, name: str) -> None:
        namespace = self._namespace(name)
        self._enforce("delete_metadef_namespace", namespace)
        _refuse_protected(namespace)
        self.store.remove_all(name)

    def delete_contents(self, name: str, kind: str) -> None:
        """DELETE /v2/metadefs/namespaces/{ns}/objects|properties|tags: Glance checks the namespace's
        delete rule (and delete_metadef_tags for tags), and refuses a protected namespace."""
        namespace = self._namespace(name)
        self._enforce("delete_metadef_namespace", namespace)
        if kind == "tag":
            self._enforce("delete_metadef_tags", namespace)
        _refuse_protected(namespace)
        self.store.remove_all(name, kind)

    # ================================================================ objects
    def list_objects(self, name: str, params: dict[str, list[str]]) -> dict[str, Any]:
        _list_params(params, self.settings, visibilities=("public", "private", "shared"))
        namespace = self._namespace(name, missing=self._missing(name))
        self._enforce("get_metadef_objects", namespace)
        objects = []
        if access.allows(self.context, "get_metadef_object", self.settings, namespace):
            objects = [present_object(name, o) for o in self.store.contents(name, "object")]
        return {"objects": objects, "schema": "v2/schemas/metadefs/objects"}

    def create_object(self, name: str, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, READ_ONLY)
        _validate(body, "object")
        for definition in (body.get("properties") or {}).values():
            _validate(definition, "property", without_name=True)
            _check_property(definition)
        namespace = self._namespace(name, missing=self._missing(name))
        self._enforce("add_metadef_object", namespace)
        record = self._add_object(name, body, utcnow())
        shown = {key: record[key] for key in OBJECT_FIELDS if key in body and key in record}
        return {
            **shown, "created_at": record["created_at"], "updated_at": record["updated_at"],
            "self": object_href(name, record["name"]), "schema": "/v2/schemas/metadefs/object",
        }  # fmt: skip

    def _add_object(self, namespace: str, body: dict[str, Any], now: str) -> dict[str, Any]:
        record = {key: body[key] for key in OBJECT_FIELDS if body.get(key) is not None}
        record.update(created_at=now, updated_at=now)
        return self._add(namespace, "object", record)

    def _object(self, namespace: str, object_name: str) -> dict[str, Any]:
        record = self.store.child(namespace, "object", object_name)
        if record is None:
            raise NotFound(f"Could not find metadata object {object_name}")
        return record

    def show_object(self, name: str, object_name: str) -> dict[str, Any]:
        namespace = self._namespace(name, missing=self._missing(name))
        self._enforce("get_metadef_object", namespace)
        return present_object(name, self._object(name, object_name))

    def update_object(self, name: str, object_name: str, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, READ_ONLY)
        _validate(body, "object")
        for definition in (body.get("properties") or {}).values():
            _check_property(definition)
        namespace = self._namespace(name, missing=self._missing(name))
        self._enforce("modify_metadef_object", namespace)
        old = self._object(name, object_name)
        record = {key: body[key] for key in OBJECT_FIELDS if body.get(key) is not None}
        record.update(created_at=old["created_at"], updated_at=utcnow(), _seq=old.get("_seq"))
        self._save(name, "object", object_name, record)
        shown = {k: record[k] for k in ("name", "description", "required", "properties") if k in record}
        return {
            **shown, "created_at": record["created_at"], "updated_at": record["updated_at"],
            "self": object_href(name, record["name"]), "schema": "/v2/schemas/metadefs/object",
        }  # fmt: skip

    def delete_object(self, name: str, object_name: str) -> None:
        namespace = self._namespace(name, missing=self._missing(name))
        self._enforce("delete_metadef_object", namespace)
        self._object(name, object_name)
        if namespace.get("protected"):
            raise Forbidden(f"Metadata definition object {object_name} is protected and cannot be deleted.")
        self.store.remove(name, "object", object_name)

    # ================================================================ properties
    def list_properties(self, name: str) -> dict[str, Any]:
        namespace = self._namespace(name)
        self._enforce("get_metadef_properties", namespace)
        return {"properties": {p["name"]: p["schema"] for p in self.store.contents(name, "property")}}

    def create_property(self, name: str, body: Any) -> dict[str, Any]:
        body = self._property_body(name, body, "add_metadef_property")
        return present_property(self._add_property(name, body["name"], body))

    def _property_body(self, name: str, body: Any, rule: str) -> dict[str, Any]:
        """A property definition, checked before the namespace is read, then ``rule`` on that namespace."""
        body = _document(body)
        _check_read_only(body, ("created_at", "updated_at"))
        _validate(body, "property")
        _check_property(body)
        self._enforce(rule, self._namespace(name))
        return body

    def _add_property(self, namespace: str, prop_name: str, definition: dict[str, Any]) -> dict[str, Any]:
        return self._add(namespace, "property", {"name": prop_name, "schema": property_schema(definition)})

    def _property(self, namespace: str, prop_name: str) -> dict[str, Any]:
        record = self.store.child(namespace, "property", prop_name)
        if record is None:
            raise NotFound(f"Could not find property {prop_name}")
        return record

    def show_property(self, name: str, prop_name: str, params: dict[str, list[str]]) -> dict[str, Any]:
        namespace = self._namespace(name)
        self._enforce("get_metadef_property", namespace)
        resource_type = (params.get("resource_type") or [""])[-1]
        if resource_type:
            self._enforce("get_metadef_resource_type", namespace)
            association = self.store.child(name, "resource_type", resource_type)
            if association is None and resource_type not in {rt["name"] for rt in self.store.resource_types()}:
                raise NotFound(f"The metadata definition resource-type with name={resource_type}, was not found.")
            if association is None:
                raise NotFound(
                    f"The metadata definition resource-type association of resource-type={resource_type} to "
                    f"namespace={name}, was not found."
                )
            prefix = association.get("prefix")
            if not (prefix and prop_name.startswith(prefix)):
                raise NotFound(
                    f"Property {prop_name} does not start with the expected resource type association prefix "
                    f"of '{prefix}'."
                )
            prop_name = prop_name[len(prefix) :]
        return present_property(self._property(name, prop_name))

    def update_property(self, name: str, prop_name: str, body: Any) -> dict[str, Any]:
        body = self._property_body(name, body, "modify_metadef_property")
        old = self._property(name, prop_name)
        record = {"name": body["name"], "schema": property_schema(body), "_seq": old.get("_seq")}
        self._save(name, "property", prop_name, record)
        return present_property(record)

    def delete_property(self, name: str, prop_name: str) -> None:
        namespace = self._namespace(name)
        self._enforce("remove_metadef_property", namespace)
        self._property(name, prop_name)
        if namespace.get("protected"):
            raise Forbidden(f"Metadata definition property {prop_name} is protected and cannot be deleted.")
        self.store.remove(name, "property", prop_name)

    # ================================================================ tags
    def list_tags(self, name: str, params: dict[str, list[str]]) -> dict[str, Any]:
        query = {key: values[-1] for key, values in params.items() if values}
        limit = _limit(query["limit"], self.settings) if query.get("limit") else None
        sort_dir = _sort_dir(query.get("sort_dir", "desc"))
        _visibility(query, ("public", "private", "shared"))
        namespace = self._namespace(name)
        self._enforce("get_metadef_tags", namespace)
        tags = _sorted(self.store.contents(name, "tag"), query.get("sort_key", "created_at"), sort_dir)
        if query.get("marker"):
            marker = self._tag(name, query["marker"])
            keys = [record_key("tag", t["name"]) for t in tags]
            start = keys.index(record_key("tag", marker["name"])) + 1
            tags = tags[start:]
        if limit is not None:
            tags = tags[:limit]
        return {"tags": [{"name": t["name"]} for t in tags]}

    def create_tag(self, name: str, tag_name: str) -> dict[str, Any]:
        namespace = self._namespace(name)
        if len(tag_name) > 80:
            raise BadRequest(f"Provided object does not match schema 'tag': {tag_name!r} is too long")
        self._enforce("add_metadef_tag", namespace)
        return present_tag(self._add_tag(name, tag_name, utcnow()))

    def _add_tag(self, namespace: str, tag_name: str, now: str) -> dict[str, Any]:
        return self._add(namespace, "tag", {"name": tag_name, "created_at": now, "updated_at": now})

    def create_tags(self, name: str, body: Any, append: bool) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, ("created_at", "updated_at"))
        _validate(body, "tags", schema=TAGS_BODY_SCHEMA)
        namespace = self._namespace(name)
        self._enforce("add_metadef_tags", namespace)
        names = [tag["name"] for tag in body.get("tags") or []]
        seen: set[str] = set()
        for tag_name in names:  # all refused before anything changes, as Glance's transaction does
            key = record_key("tag", tag_name)
            if key in seen or (append and self.store.child(name, "tag", key) is not None):
                raise _name_taken("tag", tag_name, name)
            seen.add(key)
        if names and not append:
            self.store.remove_all(name, "tag")
        now = utcnow()
        for tag_name in names:
            self._add_tag(name, tag_name, now)
        return {"tags": [{"name": tag_name} for tag_name in names]}

    def _tag(self, namespace: str, tag_name: str) -> dict[str, Any]:
        record = self.store.child(namespace, "tag", record_key("tag", tag_name))
        if record is None:
            raise NotFound(f"Could not find metadata tag {tag_name}")
        return record

    def show_tag(self, name: str, tag_name: str) -> dict[str, Any]:
        namespace = self._namespace(name)
        self._enforce("get_metadef_tag", namespace)
        return present_tag(self._tag(name, tag_name))

    def update_tag(self, name: str, tag_name: str, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, ("created_at", "updated_at"))
        _validate(body, "tag")
        namespace = self._namespace(name)
        self._enforce("modify_metadef_tag", namespace)
        old = self._tag(name, tag_name)
        record = {**old, "name": body["name"], "updated_at": utcnow()}
        self._save(name, "tag", old["name"], record)
        return present_tag(record)

    def delete_tag(self, name: str, tag_name: str) -> None:
        namespace = self._namespace(name)
        self._enforce("delete_metadef_tag", namespace)
        tag = self._tag(name, tag_name)
        if namespace.get("protected"):
            raise Forbidden(f"Metadata definition tag {tag['name']} is protected and cannot be deleted.")
        self.store.remove(name, "tag", record_key("tag", tag["name"]))

    # ================================================================ resource types
    def list_resource_types(self) -> dict[str, Any]:
        self._enforce("list_metadef_resource_types")
        return {
            "resource_types": [_shown(rt, ("name", "created_at", "updated_at")) for rt in self.store.resource_types()]
        }

    def list_associations(self, name: str) -> dict[str, Any]:
        namespace = self._namespace(name)
        self._enforce("list_metadef_resource_types", namespace)
        associations = []
        if access.allows(self.context, "get_metadef_resource_type", self.settings, namespace):
            associations = [present_association(a) for a in self.store.contents(name, "resource_type")]
        return {"resource_type_associations": associations}

    def create_association(self, name: str, body: Any) -> dict[str, Any]:
        body = _document(body)
        _check_read_only(body, ("created_at", "updated_at"))
        _validate(body, "resource_type")
        namespace = self._namespace(name)
        self._enforce("add_metadef_resource_type_association", namespace)
        return present_association(self._associate(name, body, utcnow()))

    def _associate(self, namespace: str, body: dict[str, Any], now: str) -> dict[str, Any]:
        record = {key: body[key] for key in ASSOCIATION_FIELDS if body.get(key) is not None}
        record.update(created_at=now, updated_at=now)
        # the resource type itself exists from its first association on (Glance creates it then)
        self.store.add_resource_type({"name": record["name"], "protected": False, "created_at": now, "updated_at": now})
        if not self.store.add(namespace, "resource_type", record["name"], record):
            raise Conflict(
                f"The metadata definition resource-type association of resource-type={record['name']} to "
                f"namespace={namespace} already exists."
            )
        return record

    def delete_association(self, name: str, resource_type: str) -> None:
        namespace = self._namespace(name)
        self._enforce("remove_metadef_resource_type_association", namespace)
        if self.store.child(name, "resource_type", resource_type) is None:
            raise NotFound(f"Failed to find resource type {resource_type} to delete")
        if namespace.get("protected"):
            raise Forbidden(
                f"Metadata definition resource-type-association {resource_type} is protected and cannot be deleted."
            )
        self.store.remove(name, "resource_type", resource_type)


# ==================================================================== shapes
def namespace_href(name: str) -> str:
    return f"/v2/metadefs/namespaces/{name}"


def object_href(namespace: str, name: str) -> str:
    return f"/v2/metadefs/namespaces/{namespace}/objects/{name}"


def present_namespace(record: dict[str, Any]) -> dict[str, Any]:
    shown = _shown(record, (*NAMESPACE_FIELDS, "created_at", "updated_at"))
    return {**shown, "self": namespace_href(record["namespace"]), "schema": "/v2/schemas/metadefs/namespace"}


def present_object(namespace: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": record["name"],
        "required": record.get("required") or [],
        **({"description": record["description"]} if record.get("description") is not None else {}),
        "properties": record.get("properties") or {},
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "self": object_href(namespace, record["name"]),
        "schema": "/v2/schemas/metadefs/object",
    }


def present_property(record: dict[str, Any]) -> dict[str, Any]:
    return {"name": record["name"], **{k: v for k, v in record["schema"].items() if k != "name"}}


def present_tag(record: dict[str, Any]) -> dict[str, Any]:
    return _shown(record, ("name", "created_at", "updated_at"))


def present_association(record: dict[str, Any]) -> dict[str, Any]:
    return _shown(record, (*ASSOCIATION_FIELDS, "created_at", "updated_at"))


def _shown(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: record[key] for key in fields if record.get(key) is not None}


def _before_links(document: dict[str, Any], **contained: Any) -> dict[str, Any]:
    """Glance's key order: the record, then what it contains, then ``self`` and ``schema``."""
    links = {key: document.pop(key) for key in ("self", "schema") if key in document}
    return {**document, **{k: v for k, v in contained.items() if v}, **links}


def _prefix_names(contained: dict[str, Any], resource_type: str) -> None:
    """GET namespace?resource_type=: property names with that association's prefix, as Glance shows them."""
    prefix = next(
        (a.get("prefix") for a in contained.get("resource_type_associations", []) if a["name"] == resource_type), None
    )
    if not prefix:
        return
    if "properties" in contained:
        contained["properties"] = {prefix + key: value for key, value in contained["properties"].items()}
    for obj in contained.get("objects", []):
        obj["properties"] = {prefix + key: value for key, value in (obj.get("properties") or {}).items()}
        if obj.get("required"):
            obj["required"] = [prefix + name for name in obj["required"]]


def property_schema(definition: dict[str, Any]) -> dict[str, Any]:
    return {key: definition[key] for key in PROPERTY_FIELDS if definition.get(key) is not None}


def record_key(kind: str, name: str) -> str:
    """Tag names are unique regardless of case (Glance's message says so; MySQL's collation makes it so)."""
    return name.lower() if kind == "tag" else name


def _name_taken(kind: str, name: str, namespace: str, *, update: bool = False) -> Conflict:
    """Glance's 409 for a name the namespace already holds: worded apart for tags, and for an update's rename."""
    if kind == "tag":
        return Conflict(
            f"A metadata tag with name={name} already exists in namespace={namespace}. (Please note that metadata "
            "tag names are case insensitive)."
        )
    if update:
        return Conflict(
            f"Invalid update. It would result in a duplicate metadata definition {kind} with the same name={name} "
            f"in namespace={namespace}."
        )
    return Conflict(f"A metadata definition {kind} with name={name} already exists in namespace={namespace}.")


def _refuse_protected(namespace: dict[str, Any]) -> None:
    if namespace.get("protected"):
        raise Forbidden(f"Metadata definition namespace {namespace['namespace']} is protected and cannot be deleted.")


# ==================================================================== request checks
TAGS_BODY_SCHEMA = {
    "name": "tags",
    "properties": {
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


def _document(body: Any) -> dict[str, Any]:
    if body is None:
        raise BadRequest("Body expected in request.")
    if not isinstance(body, dict):
        raise BadRequest("Provided object does not match schema: the body must be a JSON object")
    return body


def _check_read_only(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")


def _validate(body: Any, name: str, *, schema: dict[str, Any] | None = None, without_name: bool = False) -> None:
    schema = dict(schema or SCHEMAS[name])
    if without_name and "required" in schema:
        schema["required"] = [key for key in schema["required"] if key != "name"]
    check_schema(body, schema, schema["name"])


def _check_property(definition: Any) -> None:
    """What WSME's PropertyType refuses (Glance answers 500 here; a bad request is the client's: 400)."""
    if not isinstance(definition, dict):
        return
    unknown = sorted(set(definition) - set(PROPERTY_FIELDS))
    if unknown:
        raise BadRequest(f"Unknown attribute for argument properties: {', '.join(unknown)}")


def _sort_dir(value: str) -> str:
    if value not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {value}")
    return value


def _visibility(query: dict[str, str], allowed: tuple[str, ...]) -> None:
    visibility = query.get("visibility")
    if visibility and visibility not in allowed:
        raise BadRequest(f"Invalid visibility value: {visibility}")


def _limit(value: str | None, settings: Settings, *, allow_zero: bool = False) -> int:
    if value is None:
        return settings.limit_param_default
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0 or (limit == 0 and not allow_zero):
        raise BadRequest("limit param must be positive")
    return min(settings.api_limit_max, limit)


def _list_params(params: dict[str, list[str]], settings: Settings, visibilities: tuple[str, ...]) -> None:
    """The objects list's parameters: checked as Glance checks them (its database ignores them)."""
    query = {key: values[-1] for key, values in params.items() if values}
    _sort_dir(query.get("sort_dir", "desc"))
    _visibility(query, visibilities)
    if "limit" in query:
        _limit(query["limit"], settings)


def _sorted(records: list[dict[str, Any]], sort_key: str, sort_dir: str) -> list[dict[str, Any]]:
    """Glance's order: ``sort_key``, then created_at, then creation (its id), all in ``sort_dir``."""

    def key(record: dict[str, Any]) -> tuple:
        value = record.get(sort_key)
        return (value is not None, str(value) if value is not None else "", record.get("created_at", ""),
                record.get("_seq", 0))  # fmt: skip

    return sorted(records, key=key, reverse=sort_dir == "desc")

"""PATCH /v2/images/{id}: Glance's two JSON-patch media types, applied with the jsonpatch library.

Every operation is checked before anything changes (read-only and reserved paths 403, property
protections 403, policies), the patch is applied to the properties the caller can see, and the
image is saved once, conditionally on the version read. Properties the caller cannot read are
kept as they are (Glance may drop them on save; we do not).
"""

from __future__ import annotations

from typing import Any

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, ConcurrentUpdate, Conflict, Forbidden, UnsupportedMediaType
from image_import.images.catalog import (
    BASE_FIELDS,
    RESERVED,
    RESERVED_PREFIX,
    check_property_quota,
    check_stored_values,
    check_tag_quota,
    validate_against_schema,
)
from image_import.models import Image, RequestContext
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.policy.protections import protections
from image_import.settings import Settings

PATCH_V21 = "application/openstack-images-v2.1-json-patch"
PATCH_V20 = "application/openstack-images-v2.0-json-patch"
ACCEPT_PATCH = f"{PATCH_V20}, {PATCH_V21}"
READ_ONLY = frozenset(
    {
        "created_at",
        "updated_at",
        "status",
        "checksum",
        "size",
        "virtual_size",
        "direct_url",
        "self",
        "file",
        "schema",
        "id",
        "os_hash_algo",
        "os_hash_value",
        "stores",
    }  # fmt: skip
)
QUEUED_ONLY = ("disk_format", "container_format")


def update_image(
    context: RequestContext, image_id: str, media_type: str, body: Any, settings: Settings, ports: Ports
) -> Image:
    if media_type not in (PATCH_V20, PATCH_V21):
        raise UnsupportedMediaType(f"Unsupported Content-Type: {media_type}", headers={"Accept-Patch": ACCEPT_PATCH})
    operations = [_normalize(op, media_type) for op in _operations(body)]

    def patched(image: Image | None) -> bool:
        image = access.require_visible(context, image, image_id, settings)
        access.authorize(context, "modify_image", image, settings)
        _apply(context, image, operations, media_type, settings)
        image.updated_at = utcnow()
        return True

    try:
        image = ports.images.edit(image_id, patched, attempts=5)
    except ConcurrentUpdate:
        raise Conflict(f"Image {image_id} kept changing; the update was not applied.") from None
    assert image is not None  # patched() always saves
    notifications.image_event("image.update", image, ports, settings)
    return image


def _operations(body: Any) -> list[dict]:
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    for op in body:
        if not isinstance(op, dict):
            raise BadRequest("Operations must be JSON objects.")
    return body


def _normalize(op: dict, media_type: str) -> dict:
    """Both media types as RFC 6902 operations; path checks as Glance's."""
    if media_type == PATCH_V20:
        kinds = [k for k in ("add", "remove", "replace") if k in op]
        if len(kinds) != 1:
            raise BadRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".')
        kind, path = kinds[0], op[kinds[0]]
    else:
        kind, path = op.get("op"), op.get("path")
        if kind not in ("add", "remove", "replace"):
            raise BadRequest(f"Invalid operation: {kind!r}. Operation must be one of add, remove, replace.")
    if kind != "remove" and "value" not in op:
        raise BadRequest(f'Operation "{kind}" requires a member named "value".')
    if not isinstance(path, str) or not path.startswith("/") or path.endswith("/") or "//" in path:
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    if path.count("/") != 1:
        raise BadRequest(f"Nested paths are not allowed: '{path}'")
    if any(seq not in ("~0", "~1") for seq in _escapes(path)):
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    name = path[1:].replace("~1", "/").replace("~0", "~")
    if name in READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")
    normalized = {"op": kind, "path": path, "name": name}
    if kind != "remove":
        normalized["value"] = op["value"]
    return normalized


def _escapes(path: str) -> list[str]:
    return [path[i : i + 2] for i, ch in enumerate(path) if ch == "~"]


def _apply(context: RequestContext, image: Image, operations: list[dict], media_type: str, settings: Settings) -> None:
    import jsonpatch

    rules = protections(settings)
    readable = {k: v for k, v in image.properties.items() if rules is None or rules.allows(context, k, "read")}
    hidden = {k: v for k, v in image.properties.items() if k not in readable}
    base = {k: getattr(image, k) for k in BASE_FIELDS if k not in READ_ONLY}
    document = {**readable, **base}
    for op in operations:
        name, kind = op["name"], op["op"]
        is_base = name in BASE_FIELDS
        exists = name in document
        if kind == "remove" and is_base:
            raise Forbidden(f"Property {name} may not be removed.")
        if kind in ("remove", "replace") and not exists:
            raise Conflict(f"Property {name} does not exist.")
        if kind == "add" and exists and not is_base and media_type == PATCH_V20:
            raise Conflict(f"Property {name} already present.")
        if name == "owner" and not context.is_admin:
            raise Forbidden("Owner can't be updated by non admin.")
        # Glance also lets an importing image's formats change; here the data's inspection holds for the
        # formats it was inspected as, so none changes while an import holds the lock (docs/decisions.md)
        if name in QUEUED_ONLY and (image.status != "queued" or image.import_lock is not None):
            raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        if name == "visibility" and isinstance(op["value"], str):  # anything else: the schema refuses it below
            access.require_visibility_change(
                context, {"project_id": image.owner, "owner": image.owner}, op["value"], settings
            )
        if not is_base and rules is not None:
            operation = "delete" if kind == "remove" else ("update" if exists else "create")
            if not rules.allows(context, name, operation):
                raise Forbidden(
                    f"Property '{name}' is protected" if operation != "create" else f"Attribute '{name}' is reserved."
                )
        try:
            document = jsonpatch.apply_patch(document, [{k: v for k, v in op.items() if k != "name"}])
        except jsonpatch.JsonPatchConflict:
            raise Conflict(f"Property {name} does not exist.") from None
        except jsonpatch.JsonPatchException as exc:
            raise BadRequest(str(exc)) from None
    validate_against_schema(document, settings)
    check_stored_values(document)
    for key in BASE_FIELDS - READ_ONLY:
        setattr(image, key, document.get(key))
    if image.tags is not None:
        image.tags = sorted(set(image.tags))
        check_tag_quota(image.tags, settings)
    image.properties = {**hidden, **{k: v for k, v in document.items() if k not in BASE_FIELDS}}
    check_property_quota(image.properties, settings)

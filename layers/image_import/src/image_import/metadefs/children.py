"""What objects, properties and tags share: a record under its name in the namespace, created or renamed
with Glance's 409s, and the refusal to delete from a protected namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.errors import Conflict, Forbidden
from image_import.metadefs.shapes import record_key

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords
    from image_import.models.metadef import MetadefNamespace


def add(
    store: MetadefRecords, namespace: str, kind: str, record: dict[str, Any], *, update: bool = False
) -> dict[str, Any]:
    """A new child record under its name; 409 when the namespace holds one of that name."""
    if not store.add(namespace, kind, record_key(kind, record["name"]), record):
        raise name_taken(kind, record["name"], namespace, update=update)
    return record


def save(store: MetadefRecords, namespace: str, kind: str, old_name: str, record: dict[str, Any]) -> None:
    """An updated child record: in place, or moved to its new name (409 when that name is taken)."""
    old_key = record_key(kind, old_name)
    if record_key(kind, record["name"]) == old_key:
        store.put(namespace, kind, old_key, record)
    else:
        add(store, namespace, kind, record, update=True)
        store.remove(namespace, kind, old_key)


def name_taken(kind: str, name: str, namespace: str, *, update: bool = False) -> Conflict:
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


def refuse_if_protected(namespace: MetadefNamespace, what: str) -> None:
    """``what`` (e.g. "object o1") may not be deleted from a protected namespace: Glance's 403."""
    if namespace.protected:
        raise Forbidden(f"Metadata definition {what} is protected and cannot be deleted.")

"""Namespace files in Glance's format (``glance-manage db_load_metadefs``, glance/etc/metadefs/*.json)
into the metadefs records.

A file holds one namespace: ``namespace``, ``display_name``, ``description``, ``visibility``,
``protected``, ``owner`` (Glance's loader defaults it to ``admin``), ``resource_type_associations``,
``properties``, ``objects`` and ``tags``. As Glance's loader, a namespace that exists already is
skipped, or replaced whole with ``overwrite``; a file that does not parse is reported and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_import.metadefs.shapes import OBJECT_FIELDS, property_schema, record_key
from image_import.models.metadef import MetadefNamespace
from image_import.models.time import utcnow

if TYPE_CHECKING:
    from image_import.adapters.ports import MetadefRecords

DEFAULT_OWNER = "admin"  # glance-manage db_load_metadefs' owner of a file that names none


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # existed already
    failed: list[str] = field(default_factory=list)  # "<file>: <why>"


def namespace_files(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else the ``*.json`` files directly in it, by name."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".json")


def load(path: Path, store: MetadefRecords, *, overwrite: bool = False) -> LoadReport:
    report = LoadReport()
    for file in namespace_files(path):
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
            name = document["namespace"]
            if not isinstance(name, str) or not name:
                raise ValueError("'namespace' must be a non-empty string")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.failed.append(f"{file.name}: {exc}")
            continue
        if store.namespace(name) is not None:
            if not overwrite:
                report.skipped.append(name)
                continue
            store.remove_all(name)
        try:
            _store_namespace(document, store)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            store.remove_all(name)  # nothing half-loaded stays
            report.failed.append(f"{file.name}: {exc!r}")
            continue
        report.loaded.append(name)
    return report


def _store_namespace(document: dict[str, Any], store: MetadefRecords) -> None:
    name, now = document["namespace"], utcnow()
    record = MetadefNamespace(
        namespace=name,
        display_name=document.get("display_name"),
        description=document.get("description"),
        visibility=document.get("visibility") or "private",
        protected=bool(document.get("protected")),
        owner=document["owner"] if document.get("owner") is not None else DEFAULT_OWNER,
        created_at=now,
        updated_at=now,
    )
    if not store.add_namespace(record):
        raise ValueError(f"namespace {name} appeared while loading")
    for association in document.get("resource_type_associations") or []:
        rt = {k: association[k] for k in ("name", "prefix", "properties_target") if association.get(k) is not None}
        # Glance's loader marks the resource types it seeds protected
        store.add_resource_type({"name": rt["name"], "protected": True, "created_at": now, "updated_at": now})
        store.put(name, "resource_type", rt["name"], {**rt, "created_at": now, "updated_at": now})
    for prop_name, definition in (document.get("properties") or {}).items():
        store.put(name, "property", prop_name, {"name": prop_name, "schema": property_schema(definition)})
    for obj in document.get("objects") or []:
        kept = {key: obj[key] for key in OBJECT_FIELDS if obj.get(key) is not None}
        store.put(name, "object", kept["name"], {**kept, "created_at": now, "updated_at": now})
    for tag in document.get("tags") or []:
        store.put(
            name, "tag", record_key("tag", tag["name"]), {"name": tag["name"], "created_at": now, "updated_at": now}
        )

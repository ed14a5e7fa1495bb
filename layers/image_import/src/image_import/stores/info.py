"""``GET /v2/info/stores`` and ``/v2/info/stores/detail`` in Glance's shapes."""

from __future__ import annotations

from image_import.errors import NotFound
from image_import.settings import Settings
from image_import.transfer.parts import MIB, MIN_PART_SIZE

NOT_MULTI_STORE = "Multi backend is not supported at this site."
# what glance_store's s3 driver reports, with the figures of our copy (transfer/parts.py, transfer/passes.py)
LARGE_OBJECT_SIZE_MB = MIN_PART_SIZE // MIB  # above one part: a multipart copy
COPIES_IN_FLIGHT = 3


def stores_document(settings: Settings, detail: bool = False) -> dict:
    """Glance's list: id, description (when set), ``default: "true"`` on the default store, in
    ``enabled_backends`` order; the detail adds type, properties and weight."""
    if not settings.multi_store:
        raise NotFound(NOT_MULTI_STORE)
    listed = []
    for store in settings.stores:
        entry: dict = {"id": store.id}
        if store.description:
            entry["description"] = store.description
        if store.id == settings.default_backend:
            entry["default"] = "true"
        if detail:
            entry["type"] = store.type
            entry["properties"] = {
                "s3_store_large_object_size": LARGE_OBJECT_SIZE_MB,
                "s3_store_large_object_chunk_size": LARGE_OBJECT_SIZE_MB,
                "s3_store_thread_pools": COPIES_IN_FLIGHT,
            }
            entry["weight"] = store.weight
        listed.append(entry)
    return {"stores": listed}

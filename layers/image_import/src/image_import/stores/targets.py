"""Which stores an import writes to: Glance's rules for ``stores``, ``all_stores`` and ``X-Image-Meta-Store``
(glance.common.utils.get_stores_from_request), and copy-image's pruning of the stores an image is already in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from image_import.errors import BadRequest, Conflict
from image_import.settings import Settings

ALL_STORES_WITH_STORES = "All_stores parameter can't be used with x-image-meta-store header or stores parameter"
STORES_WITH_HEADER = "Stores parameter and x-image-meta-store header can't be both specified"


def requested_stores(body: dict[str, Any], store_header: str | None, settings: Settings) -> list[str]:
    """The stores the request names, in its order (``all_stores``: every store, in ``enabled_backends``
    order); 400 for contradicting fields, 409 for a store that is not configured, as Glance."""
    if body.get("all_stores", False):
        if "stores" in body or store_header is not None:
            raise BadRequest(ALL_STORES_WITH_STORES)
        return [s.id for s in settings.stores]
    if "stores" in body:
        if store_header is not None:
            raise BadRequest(STORES_WITH_HEADER)
        stores = body["stores"]
        # Glance iterates whatever it gets (a string store by store letter) and fails an empty list after
        # its 202; here both are refused up front
        if not isinstance(stores, list) or not stores:
            raise BadRequest("'stores' must be a non-empty list of store identifiers")
    else:
        stores = [store_header if store_header is not None else settings.default_backend]
    for store in stores:
        require_known(store, settings)
    return list(dict.fromkeys(stores))  # a store named twice is written once


def require_known(store: Any, settings: Settings) -> str:
    if not isinstance(store, str) or settings.store(store) is None:
        raise Conflict(f"Store for identifier {store} not found")
    return store


def copy_targets(requested: list[str], present: list[str], all_stores: bool) -> list[str]:
    """copy-image: ``all_stores`` skips the stores the image is in; naming one of them is Glance's 400."""
    if all_stores:
        return [s for s in requested if s not in present]
    for store in requested:
        if store in present:
            raise BadRequest(f"Image is already present at store '{store}'")
    return requested


def job_stores(method: str, stores: Sequence[str | None] | None, source_store: str | None = None) -> dict[str, Any]:
    """The workflow document's store fields for an import into ``stores`` (the task's ``backend``; ``[None]``
    with one store): an import writes the first from staging and copies into the rest; a copy-image copies
    into all of them from ``source_store``."""
    named = [s for s in stores or [] if s]
    if not named:
        return {}
    if method == "copy-image":
        return {"stores": named, "copy_targets": named, "source_store": source_store}
    return {"stores": named, "copy_targets": named[1:]}

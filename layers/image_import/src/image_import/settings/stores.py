"""Glance's multi-store options: ``[DEFAULT] enabled_backends``, ``[glance_store] default_backend`` and one
section per store. Here every store is an S3 bucket (Glance's ``s3`` store type), possibly in another region.

No ``enabled_backends``: one store, the stack's store bucket, exactly as before (``Settings.stores`` is empty).
"""

from __future__ import annotations

from dataclasses import dataclass

from image_import.settings.ini import ConfigError, Sections
from image_import.settings.options import STORE_SECTION, option, parse_option

STORE_TYPES = ("s3",)
RESERVED_PREFIX = "os_glance_"  # Glance's staging and tasks stores; no operator store may be named so


@dataclass(frozen=True)
class StoreConfig:
    """One ``enabled_backends`` entry and its section."""

    id: str
    type: str = "s3"
    # the bucket (s3_store_bucket); None: the stack's store bucket, which only the default store may use
    bucket: str | None = None
    region: str | None = None  # s3_store_region_name; None: the functions' own region
    description: str | None = None  # store_description
    weight: int = 0  # Glance 2023.2: an image's stores are listed heaviest first


def load_stores(sections: Sections) -> tuple[tuple[StoreConfig, ...], str | None]:
    """The configured stores (in ``enabled_backends`` order) and the default one's id; ``((), None)`` without
    ``enabled_backends``."""
    default = sections.get("DEFAULT", {})
    item = default.get("enabled_backends")
    if item is None or not item.value.strip():
        return (), None
    backends = parse_option(option("DEFAULT", "enabled_backends"), item)
    stores = []
    for store_id, store_type in backends.items():
        if store_id.startswith(RESERVED_PREFIX):
            raise ConfigError(f"{item.where()}: store id {store_id!r} is reserved (Glance's {RESERVED_PREFIX}* stores)")
        if store_type not in STORE_TYPES:
            raise ConfigError(
                f"{item.where()}: store {store_id!r} has type {store_type!r}; supported here: {', '.join(STORE_TYPES)}"
            )
        options = sections.get(store_id, {})
        weight = parse_option(option(STORE_SECTION, "weight"), options["weight"]) if "weight" in options else 0
        stores.append(
            StoreConfig(
                id=store_id,
                type=store_type,
                bucket=_text(options, "s3_store_bucket"),
                region=_text(options, "s3_store_region_name"),
                description=_text(options, "store_description"),
                weight=weight,
            )
        )
    chosen = sections.get("glance_store", {}).get("default_backend")
    if chosen is None or not chosen.value:
        raise ConfigError(f"{item.where()}: enabled_backends needs [glance_store] default_backend")
    if chosen.value not in backends:
        raise ConfigError(
            f"{chosen.where()}: default_backend {chosen.value!r} is not in enabled_backends ({', '.join(backends)})"
        )
    buckets: dict[str, str] = {}
    for store in stores:
        if store.bucket is None and store.id != chosen.value:
            raise ConfigError(
                f"{item.where()}: store {store.id!r} needs s3_store_bucket in its section [{store.id}] "
                "(only the default store may use the stack's store bucket)"
            )
        if store.bucket is not None:
            if store.bucket in buckets:
                raise ConfigError(
                    f"{item.where()}: stores {buckets[store.bucket]!r} and {store.id!r} name the same bucket "
                    f"{store.bucket!r}; each store needs its own"
                )
            buckets[store.bucket] = store.id
    return tuple(stores), chosen.value


def _text(options, name: str) -> str | None:
    value = options.get(name)
    return value.value.strip() or None if value is not None else None

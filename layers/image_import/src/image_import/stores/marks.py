"""What an image says about its stores while an import writes them (Glance's action wrapper verbs):
``stores`` gains each store as its copy finishes, ``os_glance_importing_to_stores`` loses it, and
``os_glance_failed_import`` gains each store whose copy failed."""

from __future__ import annotations

from image_import.models import Image
from image_import.models.image import FAILED_IMPORT_KEY, IMPORTING_TO_STORES_KEY
from image_import.settings import Settings

COPY_IMAGE = "copy-image"


def _listed(image: Image, key: str) -> list[str]:
    return [s for s in image.properties.get(key, "").split(",") if s]


def _set(image: Image, key: str, stores: list[str]) -> None:
    image.properties[key] = ",".join(stores)


def store_written(image: Image, store: str, settings: Settings) -> None:
    if store not in image.stores:
        image.stores = settings.by_weight([*image.stores, store])
    _set(image, IMPORTING_TO_STORES_KEY, [s for s in _listed(image, IMPORTING_TO_STORES_KEY) if s != store])
    _set(image, FAILED_IMPORT_KEY, [s for s in _listed(image, FAILED_IMPORT_KEY) if s != store])


def store_failed(image: Image, store: str) -> None:
    _set(image, IMPORTING_TO_STORES_KEY, [s for s in _listed(image, IMPORTING_TO_STORES_KEY) if s != store])
    failed = _listed(image, FAILED_IMPORT_KEY)
    if store not in failed:
        _set(image, FAILED_IMPORT_KEY, [*failed, store])


def store_removed(image: Image, store: str) -> None:
    image.stores = [s for s in image.stores if s != store]


def forget_written_stores(image: Image, job) -> None:
    """A reverted import: the image is in none of the stores it wrote; what failed stays reported."""
    written = set(job.copy_targets if job.method == COPY_IMAGE else job.stores)
    image.stores = [s for s in image.stores if s not in written]
    failed = _listed(image, FAILED_IMPORT_KEY)
    for result in job.store_results or []:
        if result.get("error") and result.get("store") not in failed:
            failed.append(result["store"])
    _set(image, FAILED_IMPORT_KEY, failed)
    _set(image, IMPORTING_TO_STORES_KEY, [])

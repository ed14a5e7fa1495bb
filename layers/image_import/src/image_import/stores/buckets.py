"""Where each store's data is: the bucket (and region) of a store id. The default store without a bucket of
its own, and every image of a single-store site, use the stack's store bucket (``ports.store``)."""

from __future__ import annotations

import functools
import logging

from image_import.adapters.objects import Bucket
from image_import.adapters.ports import Ports, StoreBucket
from image_import.settings import Settings

logger = logging.getLogger(__name__)


def discard(bucket: StoreBucket, key: str) -> bool:
    """Remove what a copy left at ``key`` (its unfinished uploads too); a store that cannot be reached (its
    bucket gone, access refused) is logged, not raised: it must not stop the import's other stores."""
    try:
        bucket.abort_uploads(key)
        bucket.delete(key)
    except Exception:
        logger.exception("could not remove %s from bucket %s", key, bucket.name)
        return False
    return True


def bucket_of(store_id: str | None, settings: Settings, ports: Ports) -> StoreBucket:
    """The bucket of ``store_id`` (None: the single store)."""
    if store_id and ports.stores is not None and store_id in ports.stores:
        return ports.stores[store_id]
    store = settings.store(store_id) if store_id else None
    if store is None or store.bucket is None:
        return ports.store
    return _bucket(store.bucket, store.region)


@functools.cache
def _bucket(name: str, region: str | None) -> Bucket:
    return Bucket(name, region)


def image_buckets(stores: list[str], settings: Settings, ports: Ports) -> list[StoreBucket]:
    """The buckets an image's data is in (its ``stores``; none recorded: the single store's)."""
    return [bucket_of(s, settings, ports) for s in stores] if stores else [ports.store]


def written_buckets(job, settings: Settings, ports: Ports) -> list[StoreBucket]:
    """The buckets an import may have written (what its revert removes): every target store of an import, only
    the new ones of a copy-image (never the stores the image was already in)."""
    if job.method == "copy-image":  # never the stores the image was in before
        return [bucket_of(s, settings, ports) for s in job.copy_targets]
    if not job.stores:
        return [ports.store]
    stores = job.stores
    return [bucket_of(s, settings, ports) for s in stores]


def further_store_buckets(settings: Settings, ports: Ports) -> list[tuple[str, StoreBucket]]:
    """(store id, bucket) of every store with a bucket of its own (not the stack's store bucket)."""
    return [(s.id, bucket_of(s.id, settings, ports)) for s in settings.stores if s.bucket is not None]

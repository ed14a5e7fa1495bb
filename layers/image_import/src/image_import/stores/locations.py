"""Glance's ``locations`` and ``direct_url`` (``show_multiple_locations`` / ``show_image_direct_url``, both off
by default as in Glance): where the image's data is, as ``s3://<bucket>/<key>`` URLs with ``metadata.store``."""

from __future__ import annotations

from image_import.adapters.ports import Ports
from image_import.models import Image, RequestContext, lifecycle
from image_import.policy import access
from image_import.settings import Settings
from image_import.stores.buckets import bucket_of
from image_import.transfer.layout import store_key

WITH_DATA = (lifecycle.ACTIVE, lifecycle.DEACTIVATED)


def image_locations(image: Image, settings: Settings, ports: Ports) -> list[dict]:
    """One location per store, heaviest first; a single-store site's one location has no store."""
    if image.status not in WITH_DATA:
        return []
    key = store_key(image.id)
    if not settings.multi_store:
        return [{"url": f"s3://{ports.store.name}/{key}", "metadata": {}}]
    stores = image.stores or settings.default_stores  # imported before the site had several stores
    return [{"url": f"s3://{bucket_of(s, settings, ports).name}/{key}", "metadata": {"store": s}} for s in stores]


def add_locations(body: dict, image: Image, context: RequestContext, settings: Settings, ports: Ports) -> dict:
    """The image's view with the location fields its site shows; a caller refused ``get_image_location`` sees
    ``locations: []`` and no ``direct_url``, as Glance."""
    if not (settings.show_multiple_locations or settings.show_image_direct_url):
        return body
    allowed = access.allows(context, "get_image_location", image, settings)
    locations = image_locations(image, settings, ports) if allowed else []
    if settings.show_multiple_locations:
        body["locations"] = locations
    if settings.show_image_direct_url and locations:
        body["direct_url"] = locations[0]["url"]
    return body

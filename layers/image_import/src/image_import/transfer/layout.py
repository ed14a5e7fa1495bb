"""Where an image's data lives in the two buckets: every key and prefix the service uses, in one place.

Staging bucket: ``staging/<id>`` (PUT /stage), ``uploads/<id>`` (direct uploads through presigned
URLs; the S3 trigger listens there), ``staging/<id>.upload.<copy id>`` (a direct upload once its
event was handled: copied out of ``uploads/``), ``web-download/<id>`` (the web-download step). Store bucket:
``images/<id>``. Data plugins write ``plugin-data/<id>.<task id>.<plugin>`` in the staging bucket. The adapters know nothing of this layout: they take whole keys.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the layout is plain strings: no pydantic for it
    from image_import.models import Image

STAGING_PREFIX = "staging/"
# Users write here through presigned URLs and the S3 trigger listens here; the service only reads
# and deletes under it, so nothing it does can trigger itself.
UPLOAD_PREFIX = "uploads/"
# Outside staging/ and uploads/: a download is neither staged by a user nor an upload event.
DOWNLOAD_PREFIX = "web-download/"
STORE_PREFIX = "images/"
# What data plugins (image_decompression, image_conversion, ...) write in place of the staged data:
# outside staging/ and uploads/ (users' data), so a plugin's role writes only here.
PLUGIN_DATA_PREFIX = "plugin-data/"
# staging/<id>.upload.<copy id>: a direct upload once its event was handled (the sweeper's rule, the
# segment up to its first '.', still names the image)
RECEIVED_MARK = ".upload."


def staging_key(image_id: str) -> str:
    return f"{STAGING_PREFIX}{image_id}"


def upload_key(image_id: str) -> str:
    return f"{UPLOAD_PREFIX}{image_id}"


def received_key(image_id: str, copy_id: str) -> str:
    """Where a direct upload is imported from: the upload event copies ``uploads/<id>`` here, pinned on
    the ETag the event saw, and removes the user's object. Only the service writes under staging/, so
    a later PUT through a still-valid URL lands in uploads/ again and changes nothing that is imported.
    Each copy has a key of its own (``copy_id``): a copy that loses the race to stage can never
    overwrite the one that won. Not ``staging/<id>``: that is PUT /stage's."""
    return f"{STAGING_PREFIX}{image_id}{RECEIVED_MARK}{copy_id}"


def is_received_key(image_id: str, key: str | None) -> bool:
    """Whether ``key`` is one of the image's received direct-upload copies."""
    return key is not None and key.startswith(f"{STAGING_PREFIX}{image_id}{RECEIVED_MARK}")


def download_key(image_id: str) -> str:
    """Where the web-download step lands the data in the staging bucket."""
    return f"{DOWNLOAD_PREFIX}{image_id}"


def replacement_key(image_id: str, task_id: str, plugin: str) -> str:
    """Where ``plugin`` writes the data that replaces an import's staged data: one key per (image, task,
    plugin), so a retried plugin overwrites its own and a revert knows every key without being told."""
    return f"{PLUGIN_DATA_PREFIX}{image_id}.{task_id}.{plugin}"


def store_key(image_id: str) -> str:
    return f"{STORE_PREFIX}{image_id}"


def source_key(image: Image, method: str) -> str:
    """Where an import of ``method`` finds the image's data in the staging bucket."""
    if method == "web-download":
        return download_key(image.id)
    # where it was staged: staging/<id> (PUT /stage) or staging/<id>.upload.<copy id> (direct upload)
    return image.staged_key or staging_key(image.id)


def image_id_of_upload(key: str) -> str | None:
    """The image id of an ``uploads/<id>`` key; None for any other key."""
    if not key.startswith(UPLOAD_PREFIX):
        return None
    candidate = key[len(UPLOAD_PREFIX) :]
    try:
        return candidate if str(uuid.UUID(candidate)) == candidate else None
    except ValueError:
        return None


def image_id_of_key(key: str) -> str | None:
    """The image an object belongs to, by Glance's housekeeping rule: the last path segment up to
    its first '.' (conversion residue too), under whichever prefix holds it. None for a key with no
    prefix, which is none of the service's.
    """
    if "/" not in key:
        return None
    return key.rsplit("/", 1)[-1].split(".", 1)[0] or None

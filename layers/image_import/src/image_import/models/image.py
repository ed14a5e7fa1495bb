"""Image records and their Glance v2 JSON shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from image_import.models.context import RequestContext
from image_import.models.ids import CanonicalId
from image_import.models.time import utcnow

ImageStatus = Literal[
    "queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"
]
Visibility = Literal["public", "community", "shared", "private"]
MemberStatus = Literal["pending", "accepted", "rejected"]

# Server-side bookkeeping keys in the reserved os_glance namespace that users may read.
IMPORT_LOCK_KEY = "os_glance_import_task"
IMPORTING_TO_STORES_KEY = "os_glance_importing_to_stores"
FAILED_IMPORT_KEY = "os_glance_failed_import"


class ImportLock(BaseModel):
    """The one-import-at-a-time lock (Glance's ``os_glance_import_task`` property)."""

    task_id: str
    taken_at: str
    # the image's size and formats before a data plugin replaced its data (plugins/base.py): the revert
    # puts them back, so a retry sees the staged data as it was declared
    restore: dict[str, Any] | None = None


class UploadRequest(BaseModel):
    """A direct-to-S3 upload the owner asked for (POST /v2/images/{id}/upload-urls).

    Kept on the image so the S3 event, which carries no identity, knows whether to import and as whom.
    """

    start_import: bool = False
    context: RequestContext  # the uploader's request context: the import runs as them
    size: int  # the declared size: an object of any other size is not staged
    requested_at: str
    upload_id: str | None = None  # the S3 multipart upload, when one was started
    etag: str | None = None  # the ETag of the uploaded object that was staged (copied out of uploads/)


class InspectedFormats(BaseModel):
    """The formats an image's data was inspected as (transfer/inspection.py), recorded with its digests: what
    activation compares the record with, so no format changed after inspection can reach ``active``."""

    disk_format: str | None = None
    container_format: str | None = None


class ImageMember(BaseModel):
    """A project an image is shared with (Glance's image membership); kept on the image record."""

    status: MemberStatus = "pending"
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)


class Image(BaseModel):
    id: CanonicalId  # lower case, whatever spelling it was created with (models/ids.py)
    name: str | None = None
    status: ImageStatus = "queued"
    visibility: Visibility = "shared"
    protected: bool = False
    os_hidden: bool = False
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    owner: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    container_format: str | None = None
    disk_format: str | None = None
    min_ram: int = 0
    min_disk: int = 0
    tags: list[str] = Field(default_factory=list)
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    # extra ("custom") properties, all strings; includes service-written os_glance_* keys
    properties: dict[str, str] = Field(default_factory=dict)
    import_lock: ImportLock | None = None
    # set with the digests by the step that inspected the data; None while no stored data was inspected
    inspected_as: InspectedFormats | None = None
    # bytes an import has written that ``size`` does not show yet (a web-download's parts, a data plugin's
    # replacement so far): counted as staged, and claimed against the limits as they arrive (quotas/growth.py)
    arriving: int = 0
    # where the staged data is in the staging bucket (staging/<id> from PUT /stage, staging/<id>.upload direct)
    staged_key: str | None = None
    upload: UploadRequest | None = None
    # image sharing: member project id -> membership (only a `shared` image's members see it)
    members: dict[str, ImageMember] = Field(default_factory=dict)
    # multi-store: the stores holding the data, heaviest first (Glance's ``stores``; empty with one store)
    stores: list[str] = Field(default_factory=list)
    # optimistic concurrency: every write is conditional on the version it read
    version: int = 0
    # the members whose index rows the store holds, as read (adapters/records/images.py); not part of the record
    _stored_members: frozenset[str] = PrivateAttr(default_factory=frozenset)
    # its owner and what it counted against the owner's quotas, as read (models/quota.py); not part of the record
    _counted: tuple[str | None, dict[str, int]] = PrivateAttr(default=(None, {}))

    @property
    def list_position(self) -> str:
        """Where a list sorted by ``created_at`` (then ``id``, Glance's tie-breaker) puts it: the sort key of
        the list indexes (adapters/records/indexes.py); timestamps are fixed-width, so the strings sort as the pairs."""
        return f"{self.created_at}#{self.id}"

    def formats(self) -> InspectedFormats:
        return InspectedFormats(disk_format=self.disk_format, container_format=self.container_format)

    def to_api(self) -> dict[str, Any]:
        """The image as Glance's v2 API shows it (base properties, then extra properties)."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "visibility": self.visibility,
            "protected": self.protected,
            "os_hidden": self.os_hidden,
            "checksum": self.checksum,
            "os_hash_algo": self.os_hash_algo,
            "os_hash_value": self.os_hash_value,
            "owner": self.owner,
            "size": self.size,
            "virtual_size": self.virtual_size,
            "container_format": self.container_format,
            "disk_format": self.disk_format,
            "min_ram": self.min_ram,
            "min_disk": self.min_disk,
            "tags": sorted(self.tags),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        for key, value in self.properties.items():
            body[key] = "" if value is None else value
        if self.import_lock is not None:
            body[IMPORT_LOCK_KEY] = self.import_lock.task_id
        if self.stores:
            body["stores"] = ",".join(self.stores)
        body["self"] = f"/v2/images/{self.id}"
        body["file"] = f"/v2/images/{self.id}/file"
        body["schema"] = "/v2/schemas/image"
        return body

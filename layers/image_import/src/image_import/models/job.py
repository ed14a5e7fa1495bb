"""The document that travels through the import state machine: ids and keys, never bytes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator

from image_import.models.context import RequestContext


class StepError(BaseModel):
    """What a Step Functions Catch puts at ``$.error``."""

    Error: str = "States.TaskFailed"
    Cause: str | None = None


class CopyState(BaseModel):
    """Where a copy in passes stands (transfer/passes.py): a few hundred bytes whatever the image size.

    Each pass is one function call that moves a bounded range and returns this; the next pass (or a
    retry of a failed one) starts from ``offset``. Part ETags are not kept: S3 lists them (ListParts)
    when the last pass completes the multipart upload.
    """

    size: int  # of the source object
    source_etag: str  # every read and copy is pinned to it (IfMatch / CopySourceIfMatch)
    part_size: int
    upload_id: str | None = None  # the target's multipart upload (None: one CopyObject, or nothing yet)
    offset: int = 0  # bytes before it are copied and hashed
    passes: int = 0  # passes that finished
    hashing: dict[str, Any] | None = None  # ParallelHasher.snapshot(); None when the digests are known
    # the format inspection's verdict, from the first pass, and the formats it was given
    virtual_size: int | None = None
    disk_format: str | None = None
    container_format: str | None = None
    done: bool = False


class DownloadState(BaseModel):
    """Where a web-download in passes stands (steps/web_download.py): a few hundred bytes whatever the size."""

    uri: str  # what the first pass fetched, after redirects (checked again on every pass)
    validator: str | None = None  # the first answer's strong ETag, else its Last-Modified: later passes' If-Range
    size: int  # Content-Range's total
    part_size: int
    upload_id: str  # the staging object's multipart upload
    offset: int = 0  # bytes before it are uploaded and hashed
    part: int = 1  # the next part number
    hashing: dict[str, Any] | None = None  # ParallelHasher.snapshot() at ``offset``
    passes: int = 0
    done: bool = False


class KnownDigests(BaseModel):
    """Digests of a staged object computed while it was written (web-download), valid while its ETag is."""

    etag: str
    size: int
    checksum: str
    hash_algo: str
    hash_value: str


class DownloadSlice(BaseModel):
    """The WebDownload step's part of the document."""

    uri: str  # the URI the user asked for (checked again before every connection)
    progress: DownloadState | None = None  # the download in passes (the state machine loops until done)
    # what the staged object hashes to, hashed while it was written (the store step then reads only what
    # format inspection needs)
    digests: KnownDigests | None = None


class PluginsSlice(BaseModel):
    """The plugin steps' part of the document."""

    done: list[str] = []  # plugins whose execute() finished: their revert is called (in reverse order)
    # what data plugins wrote in place of the staged data, in order (data/layout.replacement_key): the
    # last one is what later steps read; all are removed when the import completes or reverts
    replacements: list[str] = []


class StoreSlice(BaseModel):
    """The ImportToStore step's part of the document."""

    key: str | None = None  # set once the store object may exist, so its revert knows what to remove
    progress: CopyState | None = None  # the copy in passes (the state machine loops until done)


# a document's flat fields before the slices (an execution started by the previous version): where each went
_FLAT_FIELDS = {
    "source_uri": ("download", "uri"),
    "download": ("download", "progress"),
    "staged_digests": ("download", "digests"),
    "plugins_done": ("plugins", "done"),
    "replacements": ("plugins", "replacements"),
    "store_key": ("store", "key"),
    "store_copy": ("store", "progress"),
}


class ImportJob(BaseModel):
    """What travels between the states: what the import is (ids and keys, never bytes), one slice per step
    for what that step wrote (``download``, ``plugins``, ``store``), and the chain's own record."""

    image_id: str
    task_id: str
    method: str = "glance-direct"
    context: RequestContext
    # the owner's quota limits as the import's admission read them (None: no quotas): the steps claim the
    # bytes they add against these (quotas/growth.py), so no step function needs to read Keystone
    limits: dict[str, int] | None = None
    # the image's owner when the import started: a plugin's role session may move only its counters
    # (adapters/ports.py plugin_ports); None in a document from before it travelled here
    owner: str | None = None
    # where the data was staged (kept on a glance-direct revert for a retry)
    staging_key: str
    # multi-store (empty with one store): the stores this import writes, in order; the first is written from
    # staging (and hashed), the others (copy_targets) are copied from ``source_store`` by the Map state
    stores: list[str] = []
    copy_targets: list[str] = []
    source_store: str | None = None
    all_stores_must_succeed: bool = True
    # one iteration of the Map state: the store it copies into
    target_store: str | None = None
    # what each iteration of the Map state ended with: {"store": id, "error": StepError or absent}
    store_results: list[dict[str, Any]] | None = None
    # the steps' slices
    download: DownloadSlice | None = None  # web-download only
    plugins: PluginsSlice = PluginsSlice()
    store: StoreSlice = StoreSlice()
    # states that finished (step_handler appends): the revert walks these (and the one that failed) in
    # reverse, and the failure is counted against the state it hit (steps/chain.py)
    steps_done: list[str] = []
    error: StepError | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        """A document of the previous, flat shape (an execution in flight across an upgrade) reads as the
        slices it now has."""
        if not isinstance(data, dict):
            return data
        old_download = isinstance(data.get("download"), dict) and "upload_id" in data["download"]
        if not old_download and not any(flat in data for flat in _FLAT_FIELDS if flat != "download"):
            return data
        data, slices = dict(data), {}  # type: ignore[var-annotated]
        for flat, (name, field) in _FLAT_FIELDS.items():
            if flat == "download" and not old_download:
                continue
            value = data.pop(flat, None)
            if value is not None:
                slices.setdefault(name, {})[field] = value
        if "uri" not in slices.get("download", {}):
            slices.pop("download", None)  # not a web-download
        data.update(slices)
        return data

    def with_slice(self, name: str, **fields: Any) -> ImportJob:
        """A copy with ``fields`` changed in the slice ``name`` (the job itself is never changed, so a pass
        that fails can run again from it)."""
        current = getattr(self, name)
        return self.model_copy(update={name: current.model_copy(update=fields)})

    @property
    def data_key(self) -> str:
        """Where the data the next step reads is: the last replacement, else the staged object."""
        return self.plugins.replacements[-1] if self.plugins.replacements else self.staging_key

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

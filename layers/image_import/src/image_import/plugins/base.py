"""The plugin contract.

A plugin is a class published under the entry-point group ``glance.image_import.plugins``
(the group Glance uses). It is built once per Lambda container with the operator settings and
must reject bad options in its constructor (raise ConfigError): that makes a misconfigured
plugin fail at build/start time, not during someone's import. Each import calls ``execute``;
if a later step fails, ``revert`` is called for every plugin whose ``execute`` finished, in
reverse order.

A *data plugin* (``image_decompression``, ``image_conversion``, your own) may also change the bytes:

* read the data it is given (``PluginJob.staging_key``: the staged object, or what an earlier data
  plugin wrote) with ``read`` (by range, pinned to the object it saw) or ``chunks`` (streamed);
* write a replacement with ``replace_data``: a new object in the staging bucket
  (``plugin-data/<image>.<task>.<plugin>``) that every later step reads instead, the image's
  ``size`` set to it, its ``disk_format``, ``container_format`` and ``virtual_size`` as given, and
  the digests cleared (the store step computes them from what it stores). The previous object stays
  until the import completes (then every replacement and the staged object are removed) or reverts
  (then the replacements are removed and the staged object is kept for a retry, as before);
* finish before ``PluginJob.deadline`` (a ``time.monotonic()`` value: the function's time minus a
  margin) or fail saying so: a plugin runs in one function call;
* declare what its function needs in ``function`` (``PluginFunction``: timeout, memory, scratch space,
  layers, write access), which the renderer turns into its Lambda. A plugin that writes data must say
  ``writes_data=True``: only then may its function write to ``plugin-data/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from image_import.models import Image, RequestContext

if TYPE_CHECKING:
    from image_import.adapters.ports import StagingBucket
    from image_import.settings import Settings


class ImageChanges(Protocol):
    """What a plugin may do to the image of its import, and no more: the contract's own port, which the
    import's side implements (``ImageActions`` in steps/actions.py). Every change re-reads the image,
    checks that the import still holds it, and writes conditionally; a lost lock or a deleted image
    raises ``TaskAborted``, a change over the owner's quota ``ImportFailed``."""

    @property
    def image_id(self) -> str: ...

    @property
    def counts_bytes(self) -> bool:
        """Whether bytes written are claimed against the owner's limits as they arrive (``arriving``)."""
        ...

    def current(self) -> Image:
        """A fresh copy of the image record."""
        ...

    def apply(self, change: Callable[[Image], None]) -> Image:
        """Apply ``change`` to a fresh read of the image and write it; the image as written."""
        ...

    def set_extra_properties(self, properties: dict[str, str]) -> Image:
        """Set extra properties as the service (os_glance_* keys are dropped)."""
        ...


@dataclass(frozen=True)
class TemplateParameter:
    """A template parameter a plugin's function reads (e.g. its scratch space), rendered into template.yaml."""

    name: str
    default: int
    minimum: int
    maximum: int
    description: str


@dataclass(frozen=True)
class PluginLayer:
    """A Lambda layer a plugin's function needs (built by ``make build`` from ``content_uri``'s Makefile)."""

    logical_id: str
    content_uri: str
    description: str


@dataclass(frozen=True)
class PluginFunction:
    """What a plugin's Lambda needs beyond the defaults (60 s, 512 MB, read-only access to staged data)."""

    timeout: int | None = None  # seconds, at most 900
    memory_size: int | None = None  # MB
    writes_data: bool = False  # may write its replacement under plugin-data/
    scratch: TemplateParameter | None = None  # EphemeralStorage (/tmp) in MiB, from this parameter
    layers: tuple[PluginLayer, ...] = ()


@dataclass
class PluginJob:
    """What a plugin sees of one import."""

    task_id: str
    method: str
    context: RequestContext  # the importing user (roles included)
    staging_key: (
        str  # where the data is in the staging bucket (an earlier data plugin's replacement, or the staged object)
    )
    actions: ImageChanges  # the only way to change the image
    staging: StagingBucket | None = None  # the staging bucket (data plugins read and write through this job)
    plugin: str = ""  # the plugin's name (names its replacement key)
    deadline: float = field(default_factory=lambda: time.monotonic() + 840.0)
    replaced_by: str | None = None  # set by replace_data: the key later steps read

    @property
    def image(self) -> Image:
        """A fresh copy of the image record."""
        return self.actions.current()

    def set_properties(self, properties: dict[str, str]) -> None:
        """Set extra properties as the service (os_glance_* keys are dropped)."""
        self.actions.set_extra_properties(properties)

    # ---- data plugins
    def data_head(self) -> tuple[int, str]:
        """(size, ETag) of the data; ImportFailed if it is gone."""
        from image_import.errors import ImportFailed

        head = self._bucket().head(self.staging_key)
        if head is None:
            raise ImportFailed(f"No staged data found at {self.staging_key}")
        return head

    def read(self, first: int, last: int, etag: str) -> bytes:
        """Bytes first..last (inclusive) of the data, while it is the object whose ETag is ``etag``."""
        return self._bucket().read(self.staging_key, first, last, etag)

    def chunks(self, etag: str, size: int, chunk_size: int = 8 * 1024 * 1024) -> Iterator[bytes]:
        """The whole data, streamed in ranged reads of ``chunk_size`` pinned to ``etag`` (memory: one chunk)."""
        for first in range(0, size, chunk_size):
            last = min(size, first + chunk_size) - 1
            yield from self._bucket().ranged_chunks(self.staging_key, first, last, etag)

    def replace_data(
        self,
        chunks: Iterable[bytes],
        *,
        disk_format: str | None = None,
        container_format: str | None = None,
        virtual_size: int | None = None,
    ) -> int:
        """Write the data later steps use instead of the current one and record it on the image; its size."""
        from image_import.errors import ImportFailed
        from image_import.transfer.layout import replacement_key
        from image_import.transfer.parts import part_size_for

        if not self.plugin:
            raise ImportFailed("replace_data needs the plugin's name (PluginJob.plugin)")
        key = replacement_key(self.actions.image_id, self.task_id, self.plugin)
        size = self._bucket().write(key, self._claimed(chunks), part_size=part_size_for(0))  # length unknown
        self.replaced_by, self.staging_key = key, key

        def record(image: Image) -> None:
            if image.import_lock is not None and image.import_lock.restore is None:  # the first replacement
                image.import_lock.restore = {
                    "size": image.size,
                    "disk_format": image.disk_format,
                    "container_format": image.container_format,
                }
            image.size, image.arriving = size, 0
            # what the store step will compute from the new bytes; nothing may claim the old ones
            image.checksum = image.os_hash_value = None
            image.inspected_as = None  # the new bytes are inspected by the store step, as they are then
            image.virtual_size = virtual_size
            if disk_format is not None:
                image.disk_format = disk_format
            if container_format is not None:
                image.container_format = container_format

        self.actions.apply(record)
        return size

    def _claimed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks, each ``CLAIM_EVERY`` bytes claimed against the owner's limits before they are passed
        on (``arriving``, steps/actions.py): a replacement over the limit fails while it is written."""
        if not self.actions.counts_bytes:
            yield from chunks
            return
        written = claimed = 0
        for chunk in chunks:
            written += len(chunk)
            if written - claimed >= CLAIM_EVERY or not claimed:
                claimed = written
                self.actions.apply(lambda image, now=written: setattr(image, "arriving", now))
            yield chunk
        if written != claimed:
            self.actions.apply(lambda image: setattr(image, "arriving", written))

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def _bucket(self) -> Any:
        if self.staging is None:
            raise RuntimeError("this PluginJob has no staging bucket")
        return self.staging


CLAIM_EVERY = 8 * 1024 * 1024  # a replacement claims its bytes this often while it is written


class ImportPlugin:
    name: ClassVar[str] = ""
    function: ClassVar[PluginFunction] = PluginFunction()

    def __init__(self, settings: Settings):
        self.settings = settings

    def execute(self, job: PluginJob) -> None:
        raise NotImplementedError

    def revert(self, job: PluginJob) -> None:
        """Undo what execute did; the default has nothing to undo (a replacement is removed by the plugin's
        step in the import chain, whatever the plugin)."""

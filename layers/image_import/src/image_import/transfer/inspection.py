"""Know what the image is: the format inspection Glance runs on the bytes it stores (CVE-2024-32498).

The bytes pass once, on their way into the store: `FormatCheck.feed` hands each chunk to every
oslo.utils format inspector (the code Glance 2024.2+ uses), which keep only the header regions
they need, so memory stays flat whatever the image size. `verdict` then applies Glance's rules
(glance/location.py, `ImageProxy.set_data`), only for `container_format == bare`:

- the detected format is the declared `disk_format`: accepted, `virtual_size` is the inspector's;
- nothing recognised and a `disk_format` no inspector knows (ami, ari, aki, ploop): accepted;
- declared `raw` but a richer format detected: accepted as raw, `virtual_size` is the byte size;
- any other mismatch, or several formats at once: refused when
  `[image_format] require_image_format_match` (the default);
- the detected format's safety checks (qcow2 backing file / data file / unknown features, VMDK
  create type and extents, GPT/MBR, QED banned...) must pass; failures of the checks named in
  `gpt_safety_checks_nonfatal` are tolerated for GPT, as in Glance.

Stricter than Glance (docs/decisions.md): the safety checks run even when a mismatch is tolerated
(`require_image_format_match = false`), a format that was recognised but could not be parsed or
checked is refused, `vmdk_allowed_types` applies to every VMDK stored (Glance: only to conversion),
and the message names what was detected, what was declared and which check failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from image_import.errors import ImportFailed

if TYPE_CHECKING:  # oslo.utils costs ~200 ms to import: only code that inspects data pays for it
    from oslo_utils.imageutils.format_inspector import FileInspector

    from image_import.settings import Settings

logger = logging.getLogger(__name__)

# Glance's [image_format] defaults
VMDK_ALLOWED_TYPES = ("streamOptimized", "monolithicSparse")
GPT_SAFETY_CHECKS_NONFATAL = ("mbr",)
INSPECTION_PIECE = 64 * 1024  # glance_store's chunk size: what the inspectors see in Glance


@dataclass(frozen=True)
class FormatOptions:
    """Glance's [image_format] options that govern inspection."""

    require_image_format_match: bool = True
    vmdk_allowed_types: tuple[str, ...] = VMDK_ALLOWED_TYPES
    gpt_safety_checks_nonfatal: tuple[str, ...] = GPT_SAFETY_CHECKS_NONFATAL

    @classmethod
    def of(cls, settings: Settings) -> FormatOptions:
        return cls(
            require_image_format_match=settings.require_image_format_match,
            vmdk_allowed_types=settings.vmdk_allowed_types,
            gpt_safety_checks_nonfatal=settings.gpt_safety_checks_nonfatal,
        )


class InvalidImageData(ImportFailed):
    """Glance's InvalidImageData: the data is not what it claims to be, or not safe (PUT /file: 415)."""


class FormatCheck:
    """Inspect a stream chunk by chunk; `verdict()` once it has all passed."""

    def __init__(self, disk_format: str | None, container_format: str | None, options: FormatOptions):
        self.disk_format = disk_format or ""
        self.container_format = container_format
        self.options = options
        self.size = 0
        self.detected: str | None = None  # what verdict() found the data to be (image_conversion needs it)
        # Glance inspects only bare images: a container (ovf, ova, docker...) is not a disk
        self.inspecting = container_format == "bare"
        self._inspectors: list[FileInspector] = []
        self._errors: dict[str, str] = {}  # inspector name -> why it stopped reading
        if self.inspecting:
            from oslo_utils.imageutils import format_inspector

            self._known_formats = set(format_inspector.ALL_FORMATS)
            self._inspectors = [kind() for kind in format_inspector.ALL_FORMATS.values()]

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if not self._inspectors:
            return
        # The inspectors follow a chain of offsets (VHDX: region table -> metadata -> size) one step per
        # piece they are given: pieces of Glance's own chunk size let them follow it inside one of our
        # 8 MiB chunks. Once every inspector has what it looks for, whole chunks do (a chain adds at
        # most one more region, which then captures from the chunk it is added in).
        view = memoryview(chunk)  # slices of a memoryview copy nothing
        if self._searching():
            for start in range(0, len(view), INSPECTION_PIECE):
                self._eat(view[start : start + INSPECTION_PIECE])
        else:
            self._eat(view)

    def _searching(self) -> bool:
        return not all(inspector.complete for inspector in self._inspectors if inspector.NAME not in self._errors)

    # ---- random access (inspect_object): only the regions' bytes are read
    def _regions(self, inspector: FileInspector) -> list:
        return [inspector.region(name) for name in inspector.context_info]

    @property
    def searching(self) -> bool:
        """Whether an inspector still waits for a region that is not at the end of the data."""
        return bool(self._waiting())

    def _waiting(self) -> list:
        """Regions that want bytes still to come: not complete, not at the end, not already passed by
        (a region added behind the position can never fill, streamed or not)."""
        from oslo_utils.imageutils.format_inspector import EndCaptureRegion

        return [
            region
            for inspector in self._inspectors
            if inspector.NAME not in self._errors
            for region in self._regions(inspector)
            if not isinstance(region, EndCaptureRegion)
            and not region.complete
            and region.offset + len(region.data) >= self.size
        ]

    def next_wanted(self, position: int) -> int:
        """The first offset at or after ``position`` that a region still waiting for data covers."""
        return min((max(position, region.offset + len(region.data)) for region in self._waiting()), default=position)

    def end_region_length(self) -> int:
        """How many final bytes the end regions keep (VMDK's footer)."""
        from oslo_utils.imageutils.format_inspector import EndCaptureRegion

        return max(
            (
                region.length
                for inspector in self._inspectors
                for region in self._regions(inspector)
                if isinstance(region, EndCaptureRegion)
            ),
            default=0,
        )

    def skip_to(self, position: int) -> None:
        """Go on at ``position`` without reading what comes before it: no region covers it (next_wanted).

        The inspectors have no public way to skip, so their position counter is moved: the one private
        attribute of oslo's inspectors used here (tests/unit/test_format_inspection.py would catch a change).
        """
        gap = position - self.size
        if gap <= 0:
            return
        self.size = position
        for inspector in self._inspectors:
            inspector._total_count += gap

    def _eat(self, piece: memoryview) -> None:
        for inspector in self._inspectors:
            if inspector.NAME in self._errors:
                continue
            try:
                inspector.eat_chunk(piece)  # type: ignore[arg-type]  # the regions copy what they keep
            except Exception as exc:  # this inspector cannot parse the data: it stops reading, the stream goes on
                self._errors[inspector.NAME] = str(exc) or type(exc).__name__

    @property
    def held_bytes(self) -> int:
        """What the inspectors keep in memory (the regions they captured)."""
        return sum(sum(inspector.context_info.values()) for inspector in self._inspectors)

    def verdict(self) -> int | None:
        """The image's virtual size (None when unknown), or InvalidImageData saying what is wrong with it."""
        if not self.inspecting:
            return None
        for inspector in self._inspectors:
            inspector.finish()
        matches = self._matches()
        if not matches:
            detected = [self._named("raw")]
        elif {inspector.NAME for inspector in matches} == {"iso", "gpt"}:
            # a bootable-as-block ISO (isohybrid) legitimately carries an MBR/GPT in front
            detected = [self._named("iso")]
        else:
            detected = matches
        names = ", ".join(inspector.NAME for inspector in detected)
        self.detected = names
        declared = self.disk_format
        mismatch = None
        sized_by = None  # what gives the virtual size: the inspector, the byte count, or nothing known
        if len(detected) > 1:
            mismatch = f"Multiple formats detected: {names}. Refusing data that carries several image formats at once"
        elif names == declared:
            sized_by = "inspector"
        elif names == "raw" and declared not in self._known_formats:
            pass  # ami, aki, ari, ploop...: not inspectable, and the data is nothing recognisable
        elif declared == "raw":
            logger.warning("Image claims disk_format raw but the data is %s: stored as raw", names)
            sized_by = "bytes"
        else:
            mismatch = (
                f"Image disk_format {declared} does not match stream data {names}: the data was detected as "
                f"{names}; upload {declared} data or set disk_format to match the data"
            )
        if mismatch and self.options.require_image_format_match:
            raise InvalidImageData(mismatch)
        for inspector in detected:
            self._check_safety(inspector)
        if mismatch:
            logger.warning("%s (allowed: [image_format] require_image_format_match is false)", mismatch)
            return None
        if sized_by == "bytes":
            return self.size or None
        if sized_by == "inspector":
            return self._virtual_size(detected[0])
        return None

    def _virtual_size(self, inspector: FileInspector) -> int | None:
        try:
            size = inspector.virtual_size
        except Exception as exc:  # a header the inspector recognised but cannot read a size from
            raise InvalidImageData(
                f"Image format inspection failed: cannot read the virtual size of the {inspector.NAME} data ({exc!r})"
            ) from None
        return size or None  # the inspectors answer 0 for "unknown"

    def _matches(self) -> list[FileInspector]:
        matches = []
        for inspector in self._inspectors:
            if inspector.NAME == "raw":
                continue
            try:
                matched = inspector.format_match
            except Exception as exc:
                if self.disk_format == inspector.NAME:
                    raise InvalidImageData(
                        f"Image format inspection failed: the {self.disk_format} data: {exc}"
                    ) from None
                matched = False  # a format that cannot even tell whether it matches is not this data's
            if matched:
                matches.append(inspector)
        return matches

    def _named(self, name: str) -> FileInspector:
        return next(inspector for inspector in self._inspectors if name == inspector.NAME)

    def _check_safety(self, inspector: FileInspector) -> None:
        from oslo_utils.imageutils.format_inspector import ImageFormatError, SafetyCheckFailed

        name = inspector.NAME
        if name in self._errors:
            raise InvalidImageData(
                f"Image failed format inspection: the data looks like {name} but cannot be parsed ({self._errors[name]})"
            )
        try:
            inspector.safety_check()
        except SafetyCheckFailed as failed:
            fatal = set(failed.failures)
            if name == "gpt":
                fatal -= set(self.options.gpt_safety_checks_nonfatal)
            if fatal:
                reasons = "; ".join(f"{check} ({failed.failures[check]})" for check in sorted(fatal))
                raise InvalidImageData(f"Image failed safety checks: the {name} data fails {reasons}") from None
            logger.warning("Non-fatal %s safety check failures: %s", name, ", ".join(sorted(failed.failures)))
        except ImageFormatError as exc:
            raise InvalidImageData(f"Image failed safety checks: the {name} data cannot be checked ({exc})") from None
        if name == "vmdk":
            self._check_vmdk_type(inspector)

    def _check_vmdk_type(self, inspector: FileInspector) -> None:
        if not inspector.has_region("header"):  # the inspector drops the header region of a text-only VMDK
            raise InvalidImageData(
                "Image failed safety checks: the vmdk data is a bare descriptor file, without the sparse extent "
                "header of a single-file VMDK; its extents would be other files"
            )
        create_type = getattr(inspector, "vmdktype", "")  # the inspector lower-cases the descriptor
        allowed = self.options.vmdk_allowed_types
        if create_type not in {kind.lower() for kind in allowed}:
            permitted = ", ".join(allowed) or "none: the list is empty"
            raise InvalidImageData(
                f"Image failed safety checks: VMDK create type {create_type!r} is not in "
                f"[image_format] vmdk_allowed_types ({permitted})"
            )


HEAD_READ = 1024 * 1024  # what inspect_object reads at a time while the inspectors still look for regions


def inspect_object(check: FormatCheck, size: int, read: Callable[[int, int], bytes]) -> int | None:
    """The verdict of ``check`` on an object of ``size`` bytes that ``read(first, last)`` reads by range.

    A copy in passes cannot stream the whole object through the inspectors in one call, and need not:
    they only ever look at their capture regions, which sit at offsets the regions before them name
    (and, for VMDK, at the very end). So this reads from the start while any inspector still waits
    for a region, jumps over what no region covers, reads the last bytes that the end regions keep,
    and gives the same verdict as streaming everything (tests/unit/test_format_inspection.py compares
    both on real images). A few MiB are read, whatever the image size; the verdict comes before a
    single byte is copied.
    """
    if not check.inspecting:
        check.size = size
        return check.verdict()
    position = 0
    while position < size and check.searching:
        wanted = check.next_wanted(position)
        if wanted > position:
            check.skip_to(min(wanted, size))
            position = check.size
            continue
        last = min(size, position + HEAD_READ) - 1
        check.feed(read(position, last))
        position = last + 1
    tail_start = max(position, size - check.end_region_length())
    if tail_start > position:
        check.skip_to(tail_start)
    while tail_start < size:
        last = min(size, tail_start + HEAD_READ) - 1
        check.feed(read(tail_start, last))
        tail_start = last + 1
    return check.verdict()


def inspected(chunks: Iterable[bytes], check: FormatCheck) -> Iterator[bytes]:
    """Pass chunks through, feeding each to the format check on the way."""
    for chunk in chunks:
        check.feed(chunk)
        yield chunk

"""``image_conversion``: the image is converted with ``qemu-img convert`` to ``[image_conversion] output_format``.

Glance's rules, in Glance's order (glance/async_/flows/plugins/image_conversion.py):

1. the data is inspected first, by range, before any byte reaches qemu-img (never run qemu-img on data
   the inspector refused: CVE-2022-47951, CVE-2024-32498): it must be what ``disk_format`` says (a GPT
   counts as raw), pass the format's safety checks and, for VMDK, have an allowed create type;
   an ``iso`` stays as it is; a ``container_format`` other than ``bare`` is refused;
2. already in ``output_format``: nothing to do (the store step inspects and hashes it as usual);
3. otherwise the data is copied to the function's scratch space (``/tmp``: Lambda's EphemeralStorage,
   the template parameter ``ConversionScratchMiB``, up to 10 GiB), ``qemu-img info`` (resource-limited as
   in Glance) must agree on the format and find no backing or data file, ``qemu-img convert`` writes the
   result, which is inspected again (it must be ``output_format``, nothing hidden inside), and it replaces
   the staged data: ``disk_format`` = ``output_format``, ``container_format`` = ``bare``, ``size`` and
   ``virtual_size`` of the result. The digests are the store step's, of what it stores.

An image whose data and result do not fit the scratch space (the data's size plus its virtual size, the
most a result can take) fails before anything is copied, saying so. qemu-img comes from PATH or, on AWS,
from the QemuImgLayer (``/opt/qemu-img/bin``); without it the import fails saying how to install it.

Option (Glance's): ``[image_conversion] output_format`` = raw (default), qcow2, vmdk; ours too: vhd, vhdx, vdi.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from image_import.errors import ImportFailed, SourceChanged
from image_import.plugins import qemu_img
from image_import.plugins.base import ImportPlugin, PluginFunction, PluginJob, PluginLayer, TemplateParameter
from image_import.settings import ConfigError, Settings
from image_import.transfer.inspection import FormatCheck, FormatOptions, inspect_object, inspected

SECTION = "image_conversion"
# disk_format -> qemu-img's name for it
QEMU_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc", "vhdx": "vhdx", "vdi": "vdi"}
OUTPUT_FORMATS = tuple(QEMU_FORMATS)  # Glance offers qcow2, raw, vmdk
COPY_CHUNK = 8 * 1024 * 1024

SCRATCH = TemplateParameter(
    name="ConversionScratchMiB",
    default=10240,
    minimum=512,
    maximum=10240,
    description=(
        "Scratch space (Lambda EphemeralStorage, /tmp) of the image_conversion function in MiB: an image is "
        "converted only if its data plus its virtual size fit (Lambda allows 512 to 10240)."
    ),
)
QEMU_IMG_LAYER = PluginLayer(
    logical_id="QemuImgLayer",
    content_uri="layers/qemu_img/",
    description="qemu-img and the libraries it needs, from the distribution's package (layers/qemu_img/Makefile).",
)


class ImageConversionPlugin(ImportPlugin):
    name = "image_conversion"
    function = PluginFunction(
        timeout=900, memory_size=2048, writes_data=True, scratch=SCRATCH, layers=(QEMU_IMG_LAYER,)
    )

    def __init__(self, settings: Settings):
        super().__init__(settings)
        option = settings.section(SECTION).get("output_format")
        self.output_format = settings.value(SECTION, "output_format")  # as declared: blank is the default
        if self.output_format not in OUTPUT_FORMATS:
            where = option.where() if option is not None else SECTION
            raise ConfigError(
                f"{where}: [image_conversion] output_format must be one of {', '.join(OUTPUT_FORMATS)}, "
                f"got {self.output_format!r}"
            )
        self.options = FormatOptions(
            require_image_format_match=True,  # conversion never lets a mismatch through (Glance neither)
            vmdk_allowed_types=settings.vmdk_allowed_types,
            gpt_safety_checks_nonfatal=settings.gpt_safety_checks_nonfatal,
        )

    def execute(self, job: PluginJob) -> None:
        image = job.image
        source_format, target = image.disk_format or "", self.output_format
        if image.container_format != "bare":
            raise ImportFailed(
                f"Image conversion refused: only bare disk images are converted, not container_format "
                f"{image.container_format!r}"
            )
        size, etag = job.data_head()
        try:
            virtual_size, detected = self._inspect(job, source_format, size, etag)
        except SourceChanged:
            raise ImportFailed("The staged data changed during the import; stage it again") from None
        if detected == "iso" and source_format == "iso":
            return  # Glance keeps ISO images as they are
        if detected != source_format:
            raise ImportFailed(
                f"Image conversion refused: the image claims disk_format {source_format} but its data is {detected}"
            )
        if source_format == target:
            return
        if source_format not in QEMU_FORMATS:
            raise ImportFailed(f"Image conversion refused: disk_format {source_format} cannot be converted")
        executable = qemu_img.find()
        with tempfile.TemporaryDirectory(prefix="image-conversion-") as scratch:
            self._check_scratch(Path(scratch), size, virtual_size or size, source_format, target)
            source, result = Path(scratch) / f"source.{source_format}", Path(scratch) / f"result.{target}"
            try:
                _download(job, etag, size, source)
            except SourceChanged:
                raise ImportFailed("The staged data changed during the import; stage it again") from None
            self._check_with_qemu_img(executable, source, source_format)
            qemu_img.convert(
                executable, source, QEMU_FORMATS[source_format], result, QEMU_FORMATS[target], job.time_left()
            )
            source.unlink()  # the upload below reads the result only
            verdict: dict[str, int | None] = {}
            with result.open("rb") as data:
                chunks = iter(lambda: data.read(COPY_CHUNK), b"")
                # inspected while it is uploaded: a result that is not output_format fails before it is recorded
                job.replace_data(
                    _verified(chunks, FormatCheck(target, "bare", self.options), target, verdict),
                    disk_format=target,
                    container_format="bare",
                )
        job.actions.apply(lambda image: setattr(image, "virtual_size", verdict["virtual_size"]))

    def _inspect(self, job: PluginJob, declared: str, size: int, etag: str) -> tuple[int | None, str]:
        """Glance's inspection before qemu-img: (virtual size, detected format), or InvalidImageData."""
        check = FormatCheck(declared, "bare", self.options)
        virtual_size = inspect_object(check, size, lambda first, last: job.read(first, last, etag))
        detected = check.detected or "raw"
        return virtual_size, "raw" if detected == "gpt" else detected  # Glance: GPT is raw for conversion

    def _check_scratch(self, scratch: Path, size: int, result_size: int, source: str, target: str) -> None:
        free = shutil.disk_usage(scratch).free
        needed = size + result_size
        if needed > free:
            raise ImportFailed(
                f"Image conversion refused: converting this {source} image to {target} needs up to {needed} bytes "
                f"of scratch space ({size} for the data, up to {result_size} for the result) and the function has "
                f"{free}; raise the template parameter {SCRATCH.name} (at most {SCRATCH.maximum} MiB, Lambda's "
                f"limit), or convert images this large outside Lambda"
            )

    def _check_with_qemu_img(self, executable: str, source: Path, source_format: str) -> None:
        """What qemu-img itself says of the data must agree with the inspector (Glance checks both)."""
        metadata = qemu_img.info(executable, source, QEMU_FORMATS[source_format])
        if metadata.get("format") != QEMU_FORMATS[source_format]:
            raise ImportFailed(
                f"Image conversion refused: qemu-img reads the {source_format} image as {metadata.get('format')}"
            )
        if "backing-filename" in metadata:
            raise ImportFailed("Image conversion refused: QCOW images with backing files are not allowed")
        specific = (metadata.get("format-specific") or {}).get("data") or {}
        if specific.get("data-file") is not None:
            raise ImportFailed("Image conversion refused: QCOW images with data-file set are not allowed")
        if source_format == "vmdk":
            create_type = specific.get("create-type")
            allowed = {kind.lower() for kind in self.settings.vmdk_allowed_types}
            if not create_type or create_type.lower() not in allowed:
                raise ImportFailed(f"Image conversion refused: VMDK create-type {create_type!r} is not allowed")


def _download(job: PluginJob, etag: str, size: int, path: Path) -> None:
    with path.open("wb") as file:
        for chunk in job.chunks(etag, size):
            file.write(chunk)
    if path.stat().st_size != size:
        raise ImportFailed(f"Image conversion failed: read {path.stat().st_size} bytes of the data, expected {size}")


def _verified(chunks: Iterator[bytes], check: FormatCheck, target: str, verdict: dict) -> Iterator[bytes]:
    """The result's chunks, inspected on the way; at the end the verdict must be ``target`` (gpt counts as raw),
    else the upload fails before it completes. ``verdict["virtual_size"]`` is the result's."""
    yield from inspected(chunks, check)
    verdict["virtual_size"] = check.verdict()
    detected = "raw" if check.detected == "gpt" else check.detected
    if detected != target:
        raise ImportFailed(f"Image conversion failed: the result was detected as {detected}, not {target}")

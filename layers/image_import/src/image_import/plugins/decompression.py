"""``image_decompression``: the staged data, if compressed, is replaced by what it decompresses to.

As Glance's plugin: the format is told by its magic bytes (never by a name), an image whose
``container_format`` is ``compressed`` is left as it is (it is meant to be stored compressed), data
that is not compressed is left alone, and ``disk_format`` is not changed (a ``.qcow2.xz`` is declared
qcow2; a later ``image_conversion`` may convert it). Formats: gzip, bzip2, xz and lzma (both through
``lzma``), zstd (``zstandard``), and zip with exactly one member. Refused, failing the import: a zip
with several members, an encrypted one or one whose member name would escape a directory (absolute,
``..``, a drive), output beyond ``image_size_cap`` (a bomb: counted as it is produced, and a zip's
declared size is checked first), and data that does not decompress (corrupt, truncated).

Memory stays flat: the staged object is read by range (8 MiB at a time) and the output goes to the
replacement object as a multipart upload (8 MiB parts, two in flight). Decompressors cannot save their
state between calls, so the whole image is decompressed in one function call; if that cannot finish
before the function's deadline the import fails saying how far it got.

No options of its own (Glance has none either).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import IO, cast

from image_import.errors import ImportFailed, SourceChanged
from image_import.plugins.base import ImportPlugin, PluginFunction, PluginJob
from image_import.plugins.ranged_file import RangedFile

BLOCK = 8 * 1024 * 1024  # what is decompressed at a time (and the multipart upload's part size)
HEADER = 16  # the longest magic number below plus what the lzma check reads

BZIP2_MARKS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
GZIP, BZIP2, XZ, LZMA, ZSTD, ZIP = "gzip", "bzip2", "xz", "lzma", "zstd", "zip"


def detect(head: bytes) -> str | None:
    """The compression of data starting with ``head``, by magic number; None if it is none of ours."""
    if head.startswith(b"\x1f\x8b\x08"):
        return GZIP
    # "BZh", the block size 1-9, then a block's magic or the end of the stream's
    if head[:3] == b"BZh" and head[3:4] in b"123456789" and head[4:10] in BZIP2_MARKS:
        return BZIP2
    if head.startswith(b"\xfd7zXZ\x00"):
        return XZ
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return ZSTD
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    if _is_lzma_alone(head):
        return LZMA
    return None


def _is_lzma_alone(head: bytes) -> bool:
    """The legacy .lzma header has no magic: properties byte, dictionary size, uncompressed size. Accept only
    what xz-utils and 7-zip write (lc+lp+pb properties in range, a dictionary of 2^n or 2^n + 2^(n-1) bytes,
    a size that is unknown or below 2^48), so that ordinary data is not taken for it."""
    if len(head) < 13 or head[0] >= 9 * 5 * 5:
        return False
    dictionary = int.from_bytes(head[1:5], "little")
    size = int.from_bytes(head[5:13], "little")
    if dictionary < 4096 or not (dictionary & (dictionary - 1) == 0 or _power_and_a_half(dictionary)):
        return False
    return size == 2**64 - 1 or size < 2**48


def _power_and_a_half(value: int) -> bool:
    low = value & -value  # the lowest set bit: value must be low * 3
    return value == low * 3


class ImageDecompressionPlugin(ImportPlugin):
    name = "image_decompression"
    # one function call does the whole image (decompressors cannot resume): Lambda's longest, a full vCPU
    function = PluginFunction(timeout=900, memory_size=1769, writes_data=True)

    def execute(self, job: PluginJob) -> None:
        image = job.image
        if image.container_format == "compressed":
            return  # Glance: such an image is meant to be stored compressed
        size, etag = job.data_head()
        head = job.read(0, min(size, HEADER) - 1, etag) if size else b""
        kind = detect(head)
        if kind is None:
            return
        source = RangedFile(size, lambda first, last: job.read(first, last, etag))
        cap = self.settings.image_size_cap
        output = _decompressed(kind, source, cap, job.deadline, size)
        try:
            job.replace_data(output, disk_format=image.disk_format, container_format=image.container_format)
        except SourceChanged:
            raise ImportFailed("The staged data changed during the import; stage it again") from None
        except _corrupt_data_errors() as exc:  # the decompressors' own errors: corrupt or truncated data
            raise ImportFailed(
                f"Image decompression failed: the {kind} data does not decompress ({_why(exc)})"
            ) from exc


def _corrupt_data_errors() -> tuple[type[Exception], ...]:
    import lzma
    import zipfile
    import zlib

    errors: tuple[type[Exception], ...] = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
    try:
        import zstandard

        errors += (zstandard.ZstdError,)
    except ImportError:  # pragma: no cover
        pass
    return errors


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _decompressed(kind: str, source: RangedFile, cap: int, deadline: float, compressed_size: int) -> Iterator[bytes]:
    reader = _open(kind, source, cap)
    produced = 0
    started = time.monotonic()
    try:
        while block := reader.read(BLOCK):
            produced += len(block)
            if produced > cap:
                raise ImportFailed(
                    f"Image decompression refused: the {kind} data decompresses to more than image_size_cap "
                    f"({cap} bytes); a compression bomb, or an image too large for this service"
                )
            if time.monotonic() > deadline:
                raise ImportFailed(
                    f"Image decompression could not finish within one function call: {source.tell()} of "
                    f"{compressed_size} compressed bytes read ({produced} bytes out) in "
                    f"{time.monotonic() - started:.0f} s; {kind} cannot be decompressed in passes"
                )
            yield block
        if not produced and kind != ZIP:
            raise ImportFailed(f"Image decompression failed: the {kind} data decompresses to nothing")
    finally:
        reader.close()


def _open(kind: str, ranged: RangedFile, cap: int) -> IO[bytes]:
    source = cast(IO[bytes], ranged)  # a file object, as the decompressors' stubs want it
    if kind == GZIP:
        import gzip

        return gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[return-value]  # concatenated members too
    if kind == BZIP2:
        import bz2

        return bz2.BZ2File(source)  # type: ignore[return-value]
    if kind in (XZ, LZMA):
        import lzma

        return lzma.LZMAFile(source, format=lzma.FORMAT_XZ if kind == XZ else lzma.FORMAT_ALONE)  # type: ignore[return-value]
    if kind == ZSTD:
        return _zstd_reader(source)
    return _zip_member(source, cap)


def _zstd_reader(source: IO[bytes]) -> IO[bytes]:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ImportFailed("Image decompression failed: zstd data, and the zstandard module is missing") from None
    return zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)  # type: ignore[return-value]


def _zip_member(source: IO[bytes], cap: int) -> IO[bytes]:
    import zipfile

    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise ImportFailed(f"Image decompression failed: the zip data is not a readable archive ({exc})") from None
    members = archive.infolist()
    if len(members) != 1:
        names = ", ".join(repr(m.filename) for m in members[:5]) + (", ..." if len(members) > 5 else "")
        raise ImportFailed(
            f"Image decompression refused: the zip archive holds {len(members)} members ({names}); "
            f"it must hold exactly one, the image"
        )
    [member] = members
    _check_member_name(member.filename)
    if member.is_dir():
        raise ImportFailed(
            f"Image decompression refused: the zip archive's only member {member.filename!r} is a directory"
        )
    if member.flag_bits & 0x1:
        raise ImportFailed(f"Image decompression refused: the zip member {member.filename!r} is encrypted")
    if member.file_size > cap:
        raise ImportFailed(
            f"Image decompression refused: the zip member {member.filename!r} declares {member.file_size} bytes, "
            f"more than image_size_cap ({cap} bytes)"
        )
    try:
        return archive.open(member)
    except NotImplementedError as exc:
        raise ImportFailed(f"Image decompression failed: the zip member uses an unsupported method ({exc})") from None


def _check_member_name(name: str) -> None:
    """A member name that would leave the directory it is extracted to (Glance extracts; we never write a file
    by it, but an archive built to escape is refused all the same)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        raise ImportFailed(f"Image decompression refused: the zip member name {name!r} escapes the archive")

"""Data for the data plugins' tests: patterned payloads, small qemu-img images, local conversions."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from image_import.plugins import conversion
from tests.support.disk_images import MIB


def payload(size: int = 3 * MIB + 12345) -> bytes:
    """Data that compresses but is not trivial."""
    return b"".join(hashlib.sha256(str(i // 64).encode()).digest() for i in range(size // 32 + 1))[:size]


def local_convert(data: bytes, source_format: str, target_format: str = "raw") -> bytes:
    """What `qemu-img convert` makes of ``data`` on this machine: the reference for the stored bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "in", Path(scratch) / "out"
        source.write_bytes(data)
        qemu = conversion.QEMU_FORMATS
        command = ["qemu-img", "convert", "-f", qemu[source_format], "-O", qemu[target_format], str(source)]
        subprocess.run([*command, str(target)], check=True, capture_output=True)
        return target.read_bytes()


def written(disk_format: str, virtual_size: int = 4 * MIB) -> bytes:
    """A small real image made by qemu-img, with some data in it (converted from a patterned raw)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw"
        raw.write_bytes(payload(MIB).ljust(virtual_size, b"\0"))
        out = Path(scratch) / "out"
        options = ["-o", "subformat=streamOptimized"] if disk_format == "vmdk" else []
        qemu = conversion.QEMU_FORMATS[disk_format]
        subprocess.run(
            ["qemu-img", "convert", "-f", "raw", "-O", qemu, *options, str(raw), str(out)],
            check=True,
            capture_output=True,
        )
        return out.read_bytes()

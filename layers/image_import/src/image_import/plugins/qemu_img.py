"""Running ``qemu-img``: where it is (PATH, or the layer's ``/opt/qemu-img/bin``), under resource limits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from image_import.errors import ImportFailed

# where the QemuImgLayer puts its wrapper on AWS (layers/qemu_img/Makefile); searched after PATH
LAYER_BIN = "/opt/qemu-img/bin"
INSTALL_HINT = (
    "install qemu-img: apt-get install qemu-utils (Debian, Ubuntu), dnf install qemu-img (Fedora, RHEL, "
    "Amazon Linux), brew install qemu (macOS); on AWS the QemuImgLayer that `make build` builds provides it"
)
# Glance runs `qemu-img info` with 2 s of CPU and 1 GiB of address space (glance/async_/utils.py)
INFO_CPU_SECONDS = 2
INFO_ADDRESS_SPACE = 1024**3


def find() -> str:
    """The qemu-img to run, or ImportFailed saying how to install it."""
    from image_import.settings.environment import variable

    search = os.pathsep.join(filter(None, [variable("PATH") or "", LAYER_BIN]))
    found = shutil.which("qemu-img", path=search)
    if found is None:
        raise ImportFailed(f"image_conversion needs qemu-img, which is not installed here; {INSTALL_HINT}")
    return found


def info(executable: str, path: Path, qemu_format: str) -> dict[str, Any]:
    """``qemu-img info --output=json`` of ``path`` read as ``qemu_format`` (never probed), limited as Glance does."""

    def limits() -> None:  # in the child, before exec
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (INFO_CPU_SECONDS, INFO_CPU_SECONDS))
        resource.setrlimit(resource.RLIMIT_AS, (INFO_ADDRESS_SPACE, INFO_ADDRESS_SPACE))

    done = subprocess.run(
        [executable, "info", "-f", qemu_format, "--output=json", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limits,
        timeout=60,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise ImportFailed(f"Image conversion failed: qemu-img info refused the image ({_last_line(done.stderr)})")
    return json.loads(done.stdout)


def convert(
    executable: str, source: Path, source_format: str, target: Path, target_format: str, timeout: float
) -> None:
    """``qemu-img convert`` within ``timeout`` seconds, or ImportFailed saying why it did not finish."""
    command = [executable, "convert", "-f", source_format, "-O", target_format, str(source), str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        raise ImportFailed(
            f"Image conversion could not finish within one function call ({timeout:.0f} s left for qemu-img convert)"
        ) from None
    if done.returncode != 0:
        reason = _last_line(done.stderr)
        if "No space left on device" in done.stderr:
            raise ImportFailed(
                f"Image conversion failed: the function's scratch space ran out ({reason}); raise the template "
                "parameter ConversionScratchMiB (Lambda allows up to 10240 MiB)"
            )
        raise ImportFailed(f"Image conversion failed: qemu-img convert: {reason}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"

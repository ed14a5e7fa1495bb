"""The qemu-img layer (layers/qemu_img): built from the distribution's packages, it runs with nothing from the host."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from tests.support.paths import ROOT

SCRIPT = ROOT / "layers/qemu_img/build_layer.sh"


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        pytest.skip("the qemu-img layer is built from Debian/Ubuntu packages: apt-get and dpkg-deb are missing")
    out = tmp_path_factory.mktemp("qemu-img-layer")
    built = subprocess.run(["sh", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=300)
    if built.returncode != 0 and "apt-get download" in built.stderr:
        pytest.skip(f"the distribution's package repository is not reachable: {built.stderr.strip()}")
    assert built.returncode == 0, built.stderr
    return out / "qemu-img"


def test_the_layer_holds_the_wrapper_the_binary_and_its_libraries_outside_opt_lib(layer):
    assert (layer / "bin/qemu-img").is_file() and (layer / "libexec/qemu-img").is_file()
    libraries = {path.name for path in (layer / "lib").iterdir()}
    assert {"ld-linux-x86-64.so.2", "libc.so.6", "libglib-2.0.so.0"} <= libraries
    size = sum(path.stat().st_size for path in layer.rglob("*") if path.is_file())
    assert size < 40 * 1024 * 1024  # well inside Lambda's 250 MB for all layers


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="the reference conversion needs qemu-img on PATH")
def test_the_layers_qemu_img_converts_with_an_empty_environment_as_the_hosts_does(layer, tmp_path):
    source = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "8M"], check=True)
    for converter, target in ((str(layer / "bin/qemu-img"), "layer.raw"), ("qemu-img", "host.raw")):
        command = [converter, "convert", "-f", "qcow2", "-O", "raw", str(source), str(tmp_path / target)]
        subprocess.run(command, check=True, env={} if converter != "qemu-img" else None, timeout=60)
    digest = [hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("layer.raw", "host.raw")]
    assert digest[0] == digest[1]

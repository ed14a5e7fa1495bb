"""Format inspection: what the data is, whether it is what it claims, and whether it is safe to boot.

Glance 2024.2/2025.1's rules (glance/location.py, CVE-2024-32498) on images built from the
formats' own structures (tests/support/disk_images.py), and on images made by qemu-img where installed.
"""

from __future__ import annotations

import os

import pytest

from image_import.errors import ImportFailed
from image_import.transfer.inspection import FormatCheck, FormatOptions, inspect_object, inspected
from tests.support import disk_images
from tests.support.disk_images import KIB, MIB

CHUNK_SIZES = [512, 64 * KIB, 8 * MIB]  # smaller than, equal to and larger than what Glance's inspectors see


@pytest.fixture(autouse=True, params=["streamed", "by range"])
def reading(request, monkeypatch):
    """Every verdict of this module twice: the data streamed through the inspectors (PUT /file), and read
    by range as a copy in passes does (inspect_object): the two must agree on everything."""
    monkeypatch.setattr(f"{__name__}.READING", request.param)
    return request.param


READING = "streamed"


def verdict(
    data: bytes,
    disk_format: str,
    *,
    container_format: str = "bare",
    chunk_size: int = 8 * MIB,
    **options,
) -> int | None:
    check = FormatCheck(disk_format, container_format, FormatOptions(**options))
    if READING == "by range":
        return inspect_object(check, len(data), lambda first, last: data[first : last + 1])
    for chunk in disk_images.chunked(data, chunk_size):
        check.feed(chunk)
    return check.verdict()


def refused(data: bytes, disk_format: str, **kwargs) -> str:
    with pytest.raises(ImportFailed) as failure:
        verdict(data, disk_format, **kwargs)
    return str(failure.value)


# --- accepted, with the virtual size the format declares ---------------------------------------


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize(
    ("disk_format", "build", "virtual_size"),
    [
        ("qcow2", lambda: disk_images.qcow2(128 * MIB, version=3), 128 * MIB),
        ("qcow2", lambda: disk_images.qcow2(128 * MIB, version=2), 128 * MIB),
        ("vmdk", lambda: disk_images.vmdk(64 * MIB), 64 * MIB),
        (
            "vmdk",
            lambda: disk_images.vmdk(64 * MIB, create_type="streamOptimized", stream_optimized_footer=True),
            64 * MIB,
        ),
        ("vhd", lambda: disk_images.vhd(32 * MIB), 32 * MIB),
        ("vhdx", lambda: disk_images.vhdx(256 * MIB), 256 * MIB),
        ("iso", lambda: disk_images.iso(64), 64 * 2048),
        ("raw", lambda: disk_images.raw(200 * KIB), 200 * KIB),
    ],
    ids=["qcow2-v3", "qcow2-v2", "vmdk-monolithicSparse", "vmdk-streamOptimized", "vhd", "vhdx", "iso", "raw"],
)
def test_an_image_of_its_declared_format_is_accepted_with_its_virtual_size(
    disk_format, build, virtual_size, chunk_size
):
    assert verdict(build(), disk_format, chunk_size=chunk_size) == virtual_size


def test_a_bootable_iso_with_an_mbr_in_front_is_an_iso():
    # Glance: iso + gpt together is a hybrid ISO, accepted as the ISO
    assert verdict(disk_images.iso(64, with_mbr=True), "iso") == 64 * 2048


@pytest.mark.parametrize(
    "build", [disk_images.gpt_disk, disk_images.mbr_disk, lambda: disk_images.iso(64)], ids=["gpt", "mbr", "iso"]
)
def test_a_partitioned_disk_or_iso_declared_raw_is_raw_of_its_byte_size(build):
    data = build()
    assert verdict(data, "raw") == len(data)


def test_a_safe_qcow2_declared_raw_is_stored_as_raw_as_glance_does():
    # Glance 2025.1 allows a rich format claimed as raw (after its safety checks) with the byte size
    data = disk_images.qcow2(128 * MIB)
    assert verdict(data, "raw") == len(data)


def test_data_of_no_known_format_passes_for_a_format_no_inspector_knows():
    assert verdict(disk_images.raw(), "ami") is None


def test_empty_raw_data_has_no_virtual_size():
    assert verdict(b"", "raw") is None


@pytest.mark.parametrize("container_format", ["ovf", "ova", "docker", "aki", None])
def test_only_bare_containers_are_inspected(container_format):
    data = disk_images.qcow2(backing_file="/etc/nova/nova.conf")
    assert verdict(data, "qcow2", container_format=container_format) is None


# --- refused: the data is not what it claims -------------------------------------------------------


def test_zeros_declared_qcow2_are_refused_saying_what_was_detected():
    message = refused(disk_images.zeros(4 * KIB), "qcow2")
    assert message.startswith("Image disk_format qcow2 does not match stream data raw")


@pytest.mark.parametrize(("declared", "build"), [("vmdk", disk_images.qcow2), ("ami", disk_images.qcow2),
                                                 ("qcow2", disk_images.vhd), ("iso", disk_images.vmdk),
                                                 ("qcow2", disk_images.qed)])  # fmt: skip
def test_a_recognised_format_other_than_the_declared_one_is_refused(declared, build):
    data = build()
    detected = {disk_images.qcow2: "qcow2", disk_images.vhd: "vhd", disk_images.vmdk: "vmdk", disk_images.qed: "qed"}
    assert f"Image disk_format {declared} does not match stream data {detected[build]}" in refused(data, declared)


def test_empty_data_declared_qcow2_is_refused():
    assert "does not match stream data raw" in refused(b"", "qcow2")


def test_data_of_two_formats_at_once_is_refused():
    # a VHD footer whose last bytes also make an MBR: qemu could open it either way
    footer = bytearray(disk_images.vhd())
    footer[:512] = disk_images.mbr([(0x80, 0x83, 2048, 2048)], boot_code=bytes(footer[:446]))
    assert "Multiple formats detected: " in refused(bytes(footer), "vhd")


def test_a_mismatch_passes_without_virtual_size_when_the_format_match_is_not_required():
    assert verdict(disk_images.zeros(), "qcow2", require_image_format_match=False) is None


# --- refused: unsafe images (CVE-2024-32498) -------------------------------------------------------


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("version", [2, 3])
def test_a_qcow2_with_a_backing_file_is_refused(version, chunk_size):
    data = disk_images.qcow2(version=version, backing_file="/etc/nova/nova.conf")
    message = refused(data, "qcow2", chunk_size=chunk_size)
    # a version 2 header has no feature bits: the inspector reads the backing file's name there as data_file
    assert message.startswith(
        "Image failed safety checks: the qcow2 data fails backing_file (Image has a backing file)"
    )


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_a_qcow2_with_an_external_data_file_is_refused(chunk_size):
    message = refused(disk_images.qcow2(data_file="/dev/sda"), "qcow2", chunk_size=chunk_size)
    assert message == "Image failed safety checks: the qcow2 data fails data_file (Image has data_file set)"


def test_a_qcow2_with_unknown_incompatible_features_is_refused():
    assert "unknown_features" in refused(disk_images.qcow2(incompatible_features=1 << 9), "qcow2")


@pytest.mark.parametrize("declared", ["raw", "vmdk"])
def test_an_unsafe_qcow2_is_refused_whatever_it_claims_to_be(declared):
    data = disk_images.qcow2(backing_file="/etc/nova/nova.conf")
    assert "backing_file" in refused(data, declared, require_image_format_match=False)


def test_a_vmdk_whose_extent_names_a_host_file_is_refused():
    data = disk_images.vmdk(extent='RW 2048 FLAT "/etc/shadow" 0')
    assert refused(data, "vmdk") == (
        "Image failed safety checks: the vmdk data fails descriptor (Invalid extent filenames found)"
    )


@pytest.mark.parametrize(
    "create_type", ["monolithicFlat", "twoGbMaxExtentFlat", "vmfs", "monolithicSparse"], ids=str.lower
)
def test_a_descriptor_only_vmdk_is_refused(create_type):
    data = disk_images.vmdk_descriptor_file(create_type, 'RW 2048 FLAT "/etc/shadow" 0')
    assert refused(data, "vmdk").startswith("Image failed safety checks: ")


def test_a_vmdk_create_type_outside_vmdk_allowed_types_is_refused():
    message = refused(disk_images.vmdk(), "vmdk", vmdk_allowed_types=("streamOptimized",))
    assert message == (
        "Image failed safety checks: VMDK create type 'monolithicsparse' is not in "
        "[image_format] vmdk_allowed_types (streamOptimized)"
    )


def test_no_vmdk_is_allowed_when_vmdk_allowed_types_is_empty():
    assert "vmdk_allowed_types (none: the list is empty)" in refused(disk_images.vmdk(), "vmdk", vmdk_allowed_types=())


def test_a_qed_image_is_refused_even_declared_raw():
    assert refused(disk_images.qed(), "raw") == (
        "Image failed safety checks: the qed data fails banned (This file format is not allowed)"
    )


@pytest.mark.parametrize(
    "build",
    [lambda: disk_images.mbr_disk(boot_flag=0x12), lambda: disk_images.gpt_disk(extra_mbr_partition=True)],
    ids=["invalid-boot-flag", "gpt-with-extra-mbr-partition"],
)
def test_mbr_safety_failures_are_fatal_only_when_configured(build):
    data = build()
    assert verdict(data, "raw") == len(data)  # Glance's default: gpt_safety_checks_nonfatal = mbr
    assert "the gpt data fails mbr" in refused(data, "raw", gpt_safety_checks_nonfatal=())


def test_a_recognised_image_that_cannot_be_parsed_is_refused():
    vhdx = bytearray(disk_images.vhdx())
    vhdx[192 * KIB : 192 * KIB + 4] = b"XXXX"  # no region table signature
    assert refused(bytes(vhdx), "vhdx").startswith("Image failed format inspection: the data looks like vhdx")


# --- streaming and memory --------------------------------------------------------------------------


def test_chunks_pass_through_unchanged():
    chunks = [os.urandom(1000) for _ in range(5)]
    check = FormatCheck("raw", "bare", FormatOptions())
    assert list(inspected(chunks, check)) == chunks
    assert check.verdict() == 5000


def test_memory_stays_flat_whatever_the_image_size():
    check = FormatCheck("raw", "bare", FormatOptions())
    chunk = os.urandom(8 * MIB)
    for _ in range(16):  # 128 MiB
        check.feed(chunk)
        assert check.held_bytes < 512 * KIB
    assert check.verdict() == 128 * MIB


def test_a_text_image_holds_no_more_than_the_vmdk_descriptor_cap():
    check = FormatCheck("raw", "bare", FormatOptions())
    for _ in range(4):
        check.feed(b"# just text\n" * (MIB // 12))
    assert check.held_bytes < 2 * MIB  # the VMDK inspector keeps at most 1 MiB of a text descriptor


# --- images made by qemu-img -----------------------------------------------------------------------

needs_qemu_img = pytest.mark.skipif(not disk_images.have_qemu_img(), reason="qemu-img is not installed")


@needs_qemu_img
@pytest.mark.parametrize(
    ("qemu_format", "options", "disk_format", "virtual_size"),
    [
        ("qcow2", ["-o", "compat=0.10"], "qcow2", 128 * MIB),
        ("qcow2", ["-o", "compat=1.1"], "qcow2", 128 * MIB),
        ("vmdk", [], "vmdk", 64 * MIB),
        ("vmdk", ["-o", "subformat=streamOptimized"], "vmdk", 64 * MIB),
        ("vhdx", [], "vhdx", 256 * MIB),
        ("raw", [], "raw", 1 * MIB),
    ],
    ids=["qcow2-v2", "qcow2-v3", "vmdk-monolithicSparse", "vmdk-streamOptimized", "vhdx", "raw"],
)
def test_images_made_by_qemu_img_are_accepted(qemu_format, options, disk_format, virtual_size):
    data = disk_images.qemu_img(qemu_format, virtual_size, *options)
    assert verdict(data, disk_format) == virtual_size


@needs_qemu_img
def test_a_vhd_made_by_qemu_img_has_its_footer_size():
    # qemu rounds a VHD to its CHS geometry: the inspector reports the footer's size
    assert verdict(disk_images.qemu_img("vpc", 32 * MIB), "vhd") >= 32 * MIB


@needs_qemu_img
@pytest.mark.parametrize(
    ("options", "failed_check"),
    [
        (["-u", "-b", "/etc/nova/nova.conf", "-F", "raw"], "backing_file"),
        (["-o", "data_file=disk.data,data_file_raw=on"], "data_file"),
    ],
    ids=["backing-file", "data-file"],
)
def test_unsafe_qcow2_made_by_qemu_img_is_refused(options, failed_check):
    data = disk_images.qemu_img("qcow2", 64 * MIB, *options)
    assert f"fails {failed_check}" in refused(data, "qcow2")


@needs_qemu_img
@pytest.mark.parametrize("subformat", ["monolithicFlat", "twoGbMaxExtentSparse"])
def test_multi_file_vmdk_made_by_qemu_img_is_refused(subformat):
    data = disk_images.qemu_img("vmdk", 64 * MIB, "-o", f"subformat={subformat}")
    assert refused(data, "vmdk").startswith("Image failed safety checks: ")


# --- the options, from glance-api.conf ------------------------------------------------------------


def test_the_image_format_options_default_to_glances(settings):
    assert FormatOptions.of(settings) == FormatOptions(True, ("streamOptimized", "monolithicSparse"), ("mbr",))


def test_the_image_format_options_are_read_from_glance_api_conf(config_dir):
    from image_import.settings import load_settings
    from tests.support.config import set_option

    set_option(config_dir, "glance-api.conf", "image_format", "require_image_format_match", "false")
    set_option(config_dir, "glance-api.conf", "image_format", "vmdk_allowed_types", "streamOptimized")
    set_option(config_dir, "glance-api.conf", "image_format", "gpt_safety_checks_nonfatal", "")
    options = FormatOptions.of(load_settings(config_dir))
    assert options == FormatOptions(False, ("streamOptimized",), ())


# --- by range (a copy in passes): a few MiB read whatever the size, the same verdict -----------------


class RangeReader:
    def __init__(self, data: bytes):
        self.data, self.read = data, 0

    def __call__(self, first: int, last: int) -> bytes:
        self.read += last - first + 1
        return self.data[first : last + 1]


@pytest.mark.parametrize(
    ("disk_format", "data", "virtual_size"),
    [
        ("raw", disk_images.raw(96 * MIB), 96 * MIB),
        ("qcow2", disk_images.qcow2(1024 * MIB) + bytes(64 * MIB), 1024 * MIB),
        ("vhdx", disk_images.vhdx(256 * MIB) + bytes(64 * MIB), 256 * MIB),
        # streamOptimized: its footer is in the last bytes, after 64 MiB of grains
        (
            "vmdk",
            (lambda image: image[: 64 * KIB] + bytes(64 * MIB) + image[64 * KIB :])(
                disk_images.vmdk(64 * MIB, create_type="streamOptimized", stream_optimized_footer=True)
            ),
            64 * MIB,
        ),
    ],
    ids=["raw", "qcow2", "vhdx", "vmdk-streamOptimized"],
)
def test_by_range_only_the_regions_are_read_and_the_verdict_is_the_streamed_one(disk_format, data, virtual_size):
    streamed = FormatCheck(disk_format, "bare", FormatOptions())
    for chunk in disk_images.chunked(data, 8 * MIB):
        streamed.feed(chunk)
    read = RangeReader(data)
    by_range = inspect_object(FormatCheck(disk_format, "bare", FormatOptions()), len(data), read)
    assert by_range == streamed.verdict() == virtual_size
    assert read.read <= 2 * MIB


def test_by_range_a_vmdk_footer_that_is_unsafe_is_refused():
    image = disk_images.vmdk(64 * MIB, create_type="streamOptimized", stream_optimized_footer=True)
    broken = image[:-SECTOR_AND_FOOTER] + bytes(SECTOR_AND_FOOTER)  # the footer and end marker wiped
    padded = broken[: 64 * KIB] + bytes(32 * MIB) + broken[64 * KIB :]
    with pytest.raises(ImportFailed):
        inspect_object(FormatCheck("vmdk", "bare", FormatOptions()), len(padded), RangeReader(padded))
    with pytest.raises(ImportFailed):
        check = FormatCheck("vmdk", "bare", FormatOptions())
        for chunk in disk_images.chunked(padded, 8 * MIB):
            check.feed(chunk)
        check.verdict()


SECTOR_AND_FOOTER = 3 * 512

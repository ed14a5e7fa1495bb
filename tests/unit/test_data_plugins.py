"""Plugins that change the data: the contract (replace, record, revert), image_decompression, image_conversion."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import io
import lzma
import shutil
import zipfile
from pathlib import Path

import pytest
import zstandard

from image_import.errors import ImportFailed
from image_import.images.catalog import create_image
from image_import.intake.stage import stage_image
from image_import.models.job import StepError
from image_import.plugins import conversion, decompression, qemu_img
from image_import.settings import ConfigError, load_settings
from image_import.steps import work as steps
from image_import.transfer.layout import replacement_key
from image_import.workflow.revert import revert
from tests.support import disk_images
from tests.support.config import set_option
from tests.support.data_plugins import local_convert, payload, written
from tests.support.fakes import fake_ports
from tests.support.imports import MEMBER, run_job

HAVE_QEMU_IMG = shutil.which("qemu-img") is not None
needs_qemu_img = pytest.mark.skipif(
    not HAVE_QEMU_IMG, reason="qemu-img is not installed (apt-get install qemu-utils); .ci/run installs it"
)
FAULT = StepError(Error="InjectedFault", Cause='{"errorMessage": "injected"}')
MIB = 1024 * 1024


def configured(config_dir: Path, plugins: str, **options: str):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "image_import_plugins", plugins)
    for key, value in options.items():
        section, option = key.split("__")
        filename = "glance-api.conf" if section == "DEFAULT" else "glance-image-import.conf"
        set_option(config_dir, filename, section, option, value)
    return load_settings(config_dir)


def staged(ports, settings, data: bytes, disk_format="raw", container_format="bare", **properties) -> str:
    fields = {"disk_format": disk_format, "container_format": container_format, **properties}
    image = create_image(MEMBER, fields, settings, ports)
    stage_image(MEMBER, image.id, [data], None, settings, ports)
    return image.id


def through_plugins(ports, settings, image_id):
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    for name in settings.image_import_plugins:
        job = steps.run_plugin(name, job, settings, ports)
    return job


def imported(ports, settings, image_id):
    """Run the whole chain; the active image, the job and the stored bytes."""
    job = through_plugins(ports, settings, image_id)
    while True:
        job = steps.import_to_store(job, settings, ports)
        if job.store.progress.done:
            break
    job = steps.delete_staging(steps.complete(job, ports), ports)
    return ports.images.get(image_id), job, ports.store.objects[f"images/{image_id}"]


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


COMPRESSORS = {
    "gzip": gzip.compress,
    "gzip (two members)": lambda d: gzip.compress(d[: len(d) // 2]) + gzip.compress(d[len(d) // 2 :]),
    "bzip2": bz2.compress,
    "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ),
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
    "zip (stored)": lambda d: (lambda b: (zipfile.ZipFile(b, "w").writestr("disk.img", d), b.getvalue())[1])(
        io.BytesIO()
    ),
    "zip (deflate)": lambda d: zipped({"disk.img": d}),
}


# ---------------------------------------------------------------- image_decompression


@pytest.mark.parametrize("kind", COMPRESSORS)
def test_each_compressed_format_is_stored_decompressed_with_digests_of_what_is_stored(config_dir, kind):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    data = payload()
    image_id = staged(ports, settings, COMPRESSORS[kind](data))
    image, job, stored = imported(ports, settings, image_id)
    assert stored == data
    assert image.status == "active" and image.size == len(data) and image.virtual_size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.os_hash_value == hashlib.sha512(data).hexdigest()
    assert job.plugins.replacements == [replacement_key(image_id, job.task_id, "image_decompression")]
    assert ports.staging.objects == {}  # the staged object and the replacement, removed once active


def test_the_format_is_told_by_magic_bytes_not_by_the_name(config_dir):
    assert decompression.detect(gzip.compress(b"x")[:16]) == "gzip"
    assert decompression.detect(b"BZh91AY&SY" + bytes(6)) == "bzip2"
    assert decompression.detect(b"BZh9 not bzip2 at all") is None
    assert decompression.detect(disk_images.qcow2()[:16]) is None
    assert decompression.detect(bytes(16)) is None
    assert decompression.detect(b"\x5d" + bytes(15)) is None  # a dictionary of 0 bytes: not an lzma header


def test_uncompressed_data_is_left_alone(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    data = disk_images.qcow2()
    image_id = staged(ports, settings, data, disk_format="qcow2")
    job = through_plugins(ports, settings, image_id)
    assert job.plugins.replacements == [] and job.data_key == job.staging_key
    assert ports.images.get(image_id).size == len(data)


def test_an_image_declared_compressed_is_not_decompressed(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    image_id = staged(ports, settings, gzip.compress(payload(1000)), container_format="compressed")
    assert through_plugins(ports, settings, image_id).plugins.replacements == []


def test_a_corrupt_archive_fails_the_import_saying_it_does_not_decompress(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    image_id = staged(ports, settings, gzip.compress(payload())[:-5000])
    with pytest.raises(ImportFailed, match="the gzip data does not decompress"):
        through_plugins(ports, settings, image_id)


def test_a_zip_with_two_members_is_refused(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    image_id = staged(ports, settings, zipped({"disk.img": b"a" * 100, "README": b"b"}))
    with pytest.raises(ImportFailed, match="holds 2 members .*'disk.img', 'README'.* exactly one"):
        through_plugins(ports, settings, image_id)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/disk.img", "C:\\disk.img", "a/../../b"])
def test_a_zip_member_whose_name_escapes_is_refused(config_dir, name):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    image_id = staged(ports, settings, zipped({name: b"a" * 100}))
    with pytest.raises(ImportFailed, match="escapes the archive"):
        through_plugins(ports, settings, image_id)


def test_a_bomb_beyond_the_size_cap_is_refused_and_nothing_is_kept(config_dir):
    settings = configured(config_dir, "[image_decompression]", DEFAULT__image_size_cap=str(4 * MIB))
    ports = fake_ports()
    bomb = gzip.compress(bytes(64 * MIB))  # 64 MiB of zeros in ~64 KiB
    image_id = staged(ports, settings, bomb)
    job = run_job(ports, settings, image_id)
    with pytest.raises(ImportFailed, match="more than image_size_cap"):
        steps.run_plugin("image_decompression", steps.verify_staging(job, settings, ports), settings, ports)
    assert replacement_key(image_id, job.task_id, "image_decompression") not in ports.staging.objects


def test_a_zip_declaring_more_than_the_size_cap_is_refused_before_decompressing(config_dir):
    settings = configured(config_dir, "[image_decompression]", DEFAULT__image_size_cap=str(4 * MIB))
    ports = fake_ports()
    image_id = staged(ports, settings, zipped({"disk.img": bytes(8 * MIB)}))
    with pytest.raises(ImportFailed, match="declares 8388608 bytes, more than image_size_cap"):
        through_plugins(ports, settings, image_id)


def test_decompression_that_cannot_finish_in_one_call_fails_saying_so(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    image_id = staged(ports, settings, gzip.compress(payload(20 * MIB)))
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    with pytest.raises(
        ImportFailed, match="could not finish within one function call.*cannot be decompressed in passes"
    ):
        steps.run_plugin("image_decompression", job, settings, ports, deadline=0.0)


def test_the_staged_object_is_read_by_ranges_never_whole(config_dir):
    from image_import.plugins.ranged_file import RangedFile

    data = payload(20 * MIB)
    reads = []

    def read(first, last):
        reads.append(last - first + 1)
        return data[first : last + 1]

    source = io.BufferedReader(RangedFile(len(data), read), buffer_size=64 * 1024)
    assert source.read() == data
    assert set(reads) == {8 * MIB, 4 * MIB}  # 8 MiB ranges, whatever the reader asks for, and the rest
    count = len(reads)
    source.seek(10)
    assert source.read(10) == data[10:20] and len(reads) == count + 1  # a seek back: one more range


# ---------------------------------------------------------------- the contract: revert and order


def test_a_failure_after_a_data_plugin_removes_its_replacement_and_restores_size_and_format(config_dir):
    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    compressed = gzip.compress(payload())
    image_id = staged(ports, settings, compressed, disk_format="raw")
    job = through_plugins(ports, settings, image_id)
    assert ports.images.get(image_id).size == len(payload())
    revert(job.model_copy(update={"error": FAULT}), settings, ports)
    image = ports.images.get(image_id)
    assert image.status == "uploading" and image.size == len(compressed) and image.disk_format == "raw"
    assert list(ports.staging.objects) == [job.staging_key]  # the staged data, kept for a retry


def test_a_data_plugin_that_dies_after_writing_leaves_nothing_after_the_revert(config_dir):
    settings = configured(config_dir, "[pad_to_mib]")
    ports = fake_ports()
    data = b"x" * 1000
    image_id = staged(ports, settings, data, fail_after_pad="yes")
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    with pytest.raises(ImportFailed, match="fail_after_pad"):
        steps.run_plugin("pad_to_mib", job, settings, ports)
    # the state machine's Catch hands the revert the plugin's *input*: no replacement recorded in it
    revert(job.model_copy(update={"error": FAULT, "steps_done": ["VerifyStaging"]}), settings, ports)
    assert list(ports.staging.objects) == [job.staging_key]
    assert ports.images.get(image_id).size == len(data)


def test_a_third_party_data_plugin_replaces_the_data_through_the_public_contract(config_dir):
    settings = configured(config_dir, "[pad_to_mib, inject_image_metadata]")
    ports = fake_ports()
    data = b"y" * (MIB + 10)
    image, job, stored = imported(ports, settings, staged(ports, settings, data))
    assert stored == data + bytes(MIB - 10) and image.size == 2 * MIB
    assert image.checksum == hashlib.md5(stored).hexdigest()
    assert image.properties["property1"] == "value1"


def test_the_next_data_plugin_reads_what_the_previous_one_wrote(config_dir):
    settings = configured(config_dir, "[image_decompression, pad_to_mib]")
    ports = fake_ports()
    data = b"z" * (MIB + 1)
    image, job, stored = imported(ports, settings, staged(ports, settings, bz2.compress(data)))
    assert stored == data + bytes(MIB - 1)
    assert len(job.plugins.replacements) == 2


# ---------------------------------------------------------------- image_conversion


def test_output_format_must_be_one_qemu_img_writes(config_dir):
    with pytest.raises(ConfigError, match=r"glance-image-import.conf:\d+: .*output_format must be one of"):
        configured(config_dir, "[image_conversion]", image_conversion__output_format="ova")
        conversion.ImageConversionPlugin(load_settings(config_dir))


def test_data_already_in_the_output_format_is_not_converted(config_dir):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    image_id = staged(ports, settings, disk_images.raw())
    assert through_plugins(ports, settings, image_id).plugins.replacements == []


def test_an_image_the_inspector_refuses_never_reaches_qemu_img(config_dir, monkeypatch):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    ran = []
    monkeypatch.setattr(qemu_img, "info", lambda *a: ran.append(a))
    monkeypatch.setattr(qemu_img, "convert", lambda *a: ran.append(a))
    image_id = staged(ports, settings, disk_images.qcow2(backing_file="/etc/passwd"), disk_format="qcow2")
    with pytest.raises(ImportFailed, match="backing_file"):
        through_plugins(ports, settings, image_id)
    assert ran == []


def test_data_that_is_not_its_disk_format_is_refused_before_conversion(config_dir, monkeypatch):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    monkeypatch.setattr(qemu_img, "find", lambda: pytest.fail("qemu-img must not be looked for"))
    image_id = staged(ports, settings, disk_images.qcow2(), disk_format="raw")  # qcow2 data labelled raw
    with pytest.raises(ImportFailed, match="claims disk_format raw but its data is qcow2"):
        through_plugins(ports, settings, image_id)


def test_without_qemu_img_the_import_fails_saying_how_to_install_it(config_dir, monkeypatch):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    monkeypatch.setattr(qemu_img.shutil, "which", lambda *a, **k: None)
    image_id = staged(ports, settings, disk_images.qcow2(), disk_format="qcow2")
    with pytest.raises(ImportFailed, match="needs qemu-img.*apt-get install qemu-utils"):
        through_plugins(ports, settings, image_id)


def test_an_image_larger_than_the_scratch_space_fails_with_that_reason(config_dir, monkeypatch):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    monkeypatch.setattr(qemu_img, "find", lambda: "/usr/bin/qemu-img")
    monkeypatch.setattr(conversion.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 0))
    image_id = staged(ports, settings, disk_images.qcow2(virtual_size=128 * MIB), disk_format="qcow2")
    with pytest.raises(ImportFailed, match="needs up to .* bytes of scratch space .*ConversionScratchMiB"):
        through_plugins(ports, settings, image_id)


@needs_qemu_img
@pytest.mark.parametrize("disk_format", ["qcow2", "vmdk", "vhdx"])
def test_real_images_are_converted_to_raw_and_stored_as_a_local_qemu_img_convert_makes_them(config_dir, disk_format):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    data = written(disk_format)
    expected = local_convert(data, disk_format)
    image, job, stored = imported(ports, settings, staged(ports, settings, data, disk_format=disk_format))
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert image.disk_format == "raw" and image.container_format == "bare"
    assert image.size == len(expected) and image.virtual_size == 4 * MIB
    assert image.checksum == hashlib.md5(expected).hexdigest()


@needs_qemu_img
def test_raw_is_converted_to_qcow2_when_that_is_the_output_format(config_dir):
    settings = configured(config_dir, "[image_conversion]", image_conversion__output_format="qcow2")
    ports = fake_ports()
    data = payload(MIB).ljust(2 * MIB, b"\0")
    image, _, stored = imported(ports, settings, staged(ports, settings, data))
    assert stored[:4] == b"QFI\xfb" and image.disk_format == "qcow2" and image.virtual_size == 2 * MIB
    assert stored == local_convert(data, "raw", "qcow2")


@needs_qemu_img
def test_a_qcow2_xz_is_decompressed_then_converted_to_raw(config_dir):
    settings = configured(config_dir, "[image_decompression, image_conversion]")
    ports = fake_ports()
    data = written("qcow2")
    compressed = lzma.compress(data, format=lzma.FORMAT_XZ)
    image, job, stored = imported(ports, settings, staged(ports, settings, compressed, disk_format="qcow2"))
    assert stored == local_convert(data, "qcow2")
    assert image.disk_format == "raw" and len(job.plugins.replacements) == 2
    assert ports.staging.objects == {}


@needs_qemu_img
def test_a_reverted_conversion_gives_the_image_back_its_format_and_size(config_dir):
    settings = configured(config_dir, "[image_conversion]")
    ports = fake_ports()
    data = written("qcow2")
    image_id = staged(ports, settings, data, disk_format="qcow2")
    job = through_plugins(ports, settings, image_id)
    assert ports.images.get(image_id).disk_format == "raw"
    revert(job.model_copy(update={"error": FAULT}), settings, ports)
    image = ports.images.get(image_id)
    assert (image.status, image.disk_format, image.size) == ("uploading", "qcow2", len(data))
    assert list(ports.staging.objects) == [job.staging_key]


def test_decompression_memory_stays_flat_whatever_the_image_size(config_dir):
    """128 MiB out of a gzip: what Python holds at once is a few blocks, not the image (traced peak)."""
    import tracemalloc

    from tests.support.fakes import FakeBucket

    class StreamingBucket(FakeBucket):
        def write(self, key, chunks, *, part_size):  # a replacement as MultipartWriter sends it: each part let go
            if not key.startswith("plugin-data/"):
                return super().write(key, chunks, part_size=part_size)
            digest, size = hashlib.md5(), 0
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
            self.put(key, digest.hexdigest().encode())
            return size

    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    ports = dataclasses.replace(ports, staging=StreamingBucket("staging"))
    image_id = staged(ports, settings, gzip.compress(bytes(128 * MIB), compresslevel=1))
    job = steps.verify_staging(run_job(ports, settings, image_id), settings, ports)
    tracemalloc.start()
    try:
        steps.run_plugin("image_decompression", job, settings, ports)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ports.images.get(image_id).size == 128 * MIB
    print(f"decompression peak {peak / MIB:.1f} MiB")
    assert peak < 40 * MIB, f"peak {peak / MIB:.1f} MiB"


def test_the_sweeper_reverting_a_lost_execution_after_a_data_plugin_restores_the_image(config_dir):
    """The execution died after decompression (no revert state ran): the sweeper's revert, built from the
    records alone, still removes the replacement and gives the image back its staged size."""
    from datetime import UTC, datetime, timedelta

    from image_import.workflow.sweeper import sweep

    settings = configured(config_dir, "[image_decompression]")
    ports = fake_ports()
    compressed = gzip.compress(payload())
    image_id = staged(ports, settings, compressed)
    job = through_plugins(ports, settings, image_id)
    ports.workflow.status = lambda name: "FAILED"  # the execution ended without its revert
    report = sweep(ports, settings, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    image = ports.images.get(image_id)
    assert report.imports_reverted == 1
    assert (image.status, image.size) == ("uploading", len(compressed))
    assert list(ports.staging.objects) == [job.staging_key]

"""Real disk images, built from the formats' own on-disk structures, for the format inspection tests.

Each builder returns the bytes of a small but well-formed image (headers packed with struct as
the format's specification and qemu lay them out), so the same oslo.utils inspector that Glance
runs sees exactly what it would see in a file made by qemu-img. Unsafe variants (a qcow2 backing
file, an external data file, a VMDK extent naming a host path...) are the attacks of
CVE-2024-32498. `qemu_img` builds the same images with the real tool when it is installed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
SECTOR = 512

# --- raw ---------------------------------------------------------------------------------------


def raw(size: int = 64 * KIB, fill: bytes = b"\x5a") -> bytes:
    """Unformatted data (no byte 0x55AA at 510, so not mistaken for an MBR)."""
    return (fill * size)[:size]


def zeros(size: int = 4 * KIB) -> bytes:
    return bytes(size)


# --- qcow2 (https://gitlab.com/qemu-project/qemu/-/blob/master/docs/interop/qcow2.txt) ------------

QCOW2_MAGIC = b"QFI\xfb"
QCOW2_EXTENSION_DATA_FILE = 0x44415441  # "DATA": the external data file's name
QCOW2_INCOMPAT_DATA_FILE = 1 << 2
CLUSTER_BITS = 16


def qcow2(
    virtual_size: int = 128 * MIB,
    *,
    version: int = 3,
    backing_file: str | None = None,
    data_file: str | None = None,
    incompatible_features: int = 0,
) -> bytes:
    """An empty qcow2 of `virtual_size`: header, L1 table and refcount table in three clusters."""
    cluster = 1 << CLUSTER_BITS
    l1_entries = -(-virtual_size // (cluster * (cluster // 8)))
    header_length = 104 if version >= 3 else 72
    extensions = b""  # header extensions follow the header in version 3
    if data_file is not None:
        assert version >= 3, "an external data file needs qcow2 version 3"
        incompatible_features |= QCOW2_INCOMPAT_DATA_FILE
        extensions += _qcow2_extension(QCOW2_EXTENSION_DATA_FILE, data_file.encode())
    if version >= 3:
        extensions += _qcow2_extension(0, b"")  # end of the header extensions
    backing = backing_file.encode() if backing_file else b""
    backing_offset = header_length + len(extensions) if backing else 0
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        QCOW2_MAGIC,
        version,
        backing_offset,
        len(backing),
        CLUSTER_BITS,
        virtual_size,
        0,  # crypt_method
        l1_entries,
        cluster,  # l1_table_offset
        2 * cluster,  # refcount_table_offset
        1,  # refcount_table_clusters
        0,  # nb_snapshots
        0,  # snapshots_offset
    )
    if version >= 3:
        header += struct.pack(">QQQII", incompatible_features, 0, 0, 4, header_length)
    first = header + extensions + backing
    image = bytearray(3 * cluster)
    image[: len(first)] = first
    return bytes(image)


def _qcow2_extension(kind: int, data: bytes) -> bytes:
    padded = data + bytes(-len(data) % 8)
    return struct.pack(">II", kind, len(data)) + padded


def qed(virtual_size: int = 16 * MIB) -> bytes:
    """QEMU Enhanced Disk: recognised by the inspector only to be refused."""
    header = struct.pack("<4sIIIQQQQQ", b"QED\x00", 65536, 16, 1, 0, 0, 0, 0, virtual_size)
    return header + bytes(128 * KIB - len(header))


# --- VMDK (VMware Virtual Disk Format 1.1) -------------------------------------------------------

VMDK_MAGIC = b"KDMV"
VMDK_GD_AT_END = 0xFFFFFFFFFFFFFFFF


def vmdk_descriptor(create_type: str, extent: str) -> str:
    return (
        "# Disk DescriptorFile\n"
        "version=1\n"
        "CID=12345678\n"
        "parentCID=ffffffff\n"
        f'createType="{create_type}"\n'
        "\n"
        "# Extent description\n"
        f"{extent}\n"
        "\n"
        "# The Disk Data Base\n"
        "#DDB\n"
        "\n"
        'ddb.virtualHWVersion = "4"\n'
        'ddb.geometry.cylinders = "130"\n'
        'ddb.geometry.heads = "16"\n'
        'ddb.geometry.sectors = "63"\n'
        'ddb.adapterType = "ide"\n'
    )


def vmdk(
    virtual_size: int = 64 * MIB,
    *,
    create_type: str = "monolithicSparse",
    extent: str | None = None,
    stream_optimized_footer: bool = False,
) -> bytes:
    """A hosted sparse extent: 512-byte header, the descriptor at sector 1, then grain tables."""
    sectors = virtual_size // SECTOR
    extent = extent or f'RW {sectors} SPARSE "disk.vmdk"'
    descriptor = vmdk_descriptor(create_type, extent).encode()
    descriptor_sectors = 20
    assert len(descriptor) <= descriptor_sectors * SECTOR
    version = 3 if stream_optimized_footer else 1
    gd_offset = VMDK_GD_AT_END if stream_optimized_footer else 21 + descriptor_sectors

    def header(gd: int) -> bytes:
        packed = struct.pack(
            "<4sIIQQQQIQQ",
            VMDK_MAGIC,
            version,
            3,  # flags: valid newline test, redundant grain table
            sectors,
            128,  # grain size in sectors
            1,  # descriptor offset (sectors)
            descriptor_sectors,
            512,  # grain table entries per grain table
            21,  # redundant grain directory offset
            gd,
        )
        packed += b"\x00" + b"\n \r\n"  # unclean shutdown flag, the newline detection characters
        return packed + bytes(SECTOR - len(packed))

    body = header(gd_offset) + descriptor + bytes(descriptor_sectors * SECTOR - len(descriptor))
    body += bytes(64 * KIB - len(body))  # grain directory and tables (empty disk)
    if stream_optimized_footer:
        # footer marker, a copy of the header with the real grain directory offset, end-of-stream marker
        body += struct.pack("<QII", 1, 0, 3) + bytes(496)
        body += header(21 + descriptor_sectors)
        body += bytes(SECTOR)
    return body


def vmdk_descriptor_file(create_type: str, extent: str) -> bytes:
    """A text-only VMDK: just a descriptor, whose extents name other files."""
    return vmdk_descriptor(create_type, extent).encode()


# --- VHD (Microsoft Virtual Hard Disk Image Format Specification) --------------------------------


def vhd(virtual_size: int = 32 * MIB) -> bytes:
    """A dynamic VHD: footer copy, dynamic header, block allocation table, footer."""
    block = 2 * MIB
    entries = -(-virtual_size // block)
    bat_offset = 512 + 1024
    footer = _vhd_footer(virtual_size, data_offset=512)
    dynamic = bytearray(
        struct.pack(">8sQQIII", b"cxsparse", 0xFFFFFFFFFFFFFFFF, bat_offset, 0x00010000, entries, block)
    )
    dynamic += bytes(1024 - len(dynamic))
    struct.pack_into(">I", dynamic, 36, _ones_complement(dynamic))
    bat = b"\xff\xff\xff\xff" * entries
    bat += bytes(-len(bat) % SECTOR)
    return footer + bytes(dynamic) + bat + footer


def _vhd_footer(virtual_size: int, data_offset: int) -> bytes:
    cylinders, heads, sectors = min(virtual_size // SECTOR // (16 * 63), 65535), 16, 63
    footer = bytearray(
        struct.pack(
            ">8sIIQI4sI4sQQHBBII16sB",
            b"conectix",
            2,  # features: reserved bit always set
            0x00010000,
            data_offset,
            0,  # timestamp
            b"qemu",
            0x00050003,
            b"Wi2k",
            virtual_size,  # original size
            virtual_size,  # current size
            cylinders,
            heads,
            sectors,
            3,  # disk type: dynamic
            0,  # checksum, filled in below
            uuid.UUID(int=0x1234).bytes,
            0,
        )
    )
    footer += bytes(SECTOR - len(footer))
    struct.pack_into(">I", footer, 64, _ones_complement(footer))
    return bytes(footer)


def _ones_complement(data: bytes | bytearray) -> int:
    return ~sum(data) & 0xFFFFFFFF


# --- VHDX ([MS-VHDX]) ----------------------------------------------------------------------------

VHDX_METADATA_REGION = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
VHDX_BAT_REGION = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
VHDX_VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
VHDX_FILE_PARAMETERS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")


def vhdx(virtual_size: int = 256 * MIB) -> bytes:
    """File identifier, the region table at 192 KiB, and a metadata region holding the virtual disk size."""
    metadata_offset, bat_offset = 1 * MIB, 2 * MIB
    image = bytearray(bat_offset + MIB)
    image[0:16] = b"vhdxfile" + "qemu".encode("utf-16-le")
    entries = [
        VHDX_BAT_REGION.bytes_le + struct.pack("<QII", bat_offset, MIB, 1),
        VHDX_METADATA_REGION.bytes_le + struct.pack("<QII", metadata_offset, MIB, 1),
    ]
    table = struct.pack("<4sIII", b"regi", 0, len(entries), 0) + b"".join(entries)
    for copy in (192 * KIB, 256 * KIB):
        image[copy : copy + len(table)] = table
    items = [
        (VHDX_FILE_PARAMETERS, struct.pack("<II", 32 * MIB, 0)),
        (VHDX_VIRTUAL_DISK_SIZE, struct.pack("<Q", virtual_size)),
    ]
    item_offset = 64 * KIB  # items follow the 64 KiB metadata table
    table = bytearray(struct.pack("<8sHH20s", b"metadata", 0, len(items), bytes(20)))
    values = bytearray()
    for guid, value in items:
        table += guid.bytes_le + struct.pack("<IIII", item_offset + len(values), len(value), 0b110, 0)
        values += value
    image[metadata_offset : metadata_offset + len(table)] = table
    start = metadata_offset + item_offset
    image[start : start + len(values)] = values
    return bytes(image)


# --- ISO 9660 ------------------------------------------------------------------------------------


def iso(blocks: int = 64, *, with_mbr: bool = False) -> bytes:
    """System area (16 sectors), a primary volume descriptor, the set terminator, then the volume."""
    block = 2048
    image = bytearray(blocks * block)
    if with_mbr:  # an isohybrid: an MBR in the system area so the same file boots from a USB stick
        image[:SECTOR] = mbr([(0x80, 0x17, 0, blocks * block // SECTOR)])
    pvd = bytearray(block)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[40:72] = b"TEST".ljust(32)
    pvd[80:88] = struct.pack("<I", blocks) + struct.pack(">I", blocks)
    pvd[120:124] = struct.pack("<H", 1) + struct.pack(">H", 1)
    pvd[124:128] = struct.pack("<H", 1) + struct.pack(">H", 1)
    pvd[128:132] = struct.pack("<H", block) + struct.pack(">H", block)
    image[16 * block : 17 * block] = pvd
    image[17 * block : 17 * block + 7] = b"\xffCD001\x01"
    return bytes(image)


# --- MBR / GPT ------------------------------------------------------------------------------------


def mbr(partitions: list[tuple[int, int, int, int]], *, boot_code: bytes = b"\xfa\x33\xc0") -> bytes:
    """A master boot record; each partition is (boot flag, type, first LBA, sectors)."""
    sector = bytearray(SECTOR)
    sector[: len(boot_code)] = boot_code
    for index, (boot, kind, first, count) in enumerate(partitions):
        start_chs, end_chs = (0x00, 0x02, 0x00) if kind == 0xEE else (0x20, 0x21, 0x00), (0xFF, 0xFF, 0xFF)
        struct.pack_into("<B3BB3BII", sector, 446 + 16 * index, boot, *start_chs, kind, *end_chs, first, count)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def mbr_disk(size: int = 1 * MIB, *, boot_flag: int = 0x80) -> bytes:
    """A legacy MBR disk with one Linux partition."""
    return mbr([(boot_flag, 0x83, 2048, size // SECTOR - 2048)]) + bytes(size - SECTOR)


def gpt_disk(size: int = 1 * MIB, *, extra_mbr_partition: bool = False) -> bytes:
    """A protective MBR (one 0xEE partition from LBA 1) and a GPT header at LBA 1."""
    sectors = size // SECTOR
    partitions = [(0, 0xEE, 1, sectors - 1)]
    if extra_mbr_partition:
        partitions.append((0, 0x83, 2048, 2048))
    header = struct.pack("<8sIIIIQQQQ", b"EFI PART", 0x00010000, 92, 0, 0, 1, sectors - 1, 34, sectors - 34)
    header += uuid.UUID(int=0xABCD).bytes_le + struct.pack("<QII", 2, 128, 128)
    return mbr(partitions) + header + bytes(size - SECTOR - len(header))


# --- qemu-img, where it is installed --------------------------------------------------------------


def have_qemu_img() -> bool:
    return shutil.which("qemu-img") is not None


def qemu_img(disk_format: str, virtual_size: int, *options: str) -> bytes:
    """`qemu-img create -f disk_format [options] disk virtual_size` in a scratch directory, as bytes.

    Relative file names in the options (a data file) land in the same scratch directory."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "disk"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", disk_format, *options, "disk", str(virtual_size)],
            check=True,
            capture_output=True,
            cwd=directory,
        )
        return path.read_bytes()


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]

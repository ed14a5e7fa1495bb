"""The records repositories are split by item kind: image records, their owners' counters, the images'
indexes and tasks each have a repository (and a port) of their own, none offering another's reads."""

from __future__ import annotations

from image_import.adapters import ports, records

USAGE_READS = {"usage", "usage_row", "set_usage", "counted_projects", "overrun_holders", "release_overrun"}
INDEX_READS = {"every", "owned_by", "with_visibility", "shared_with", "in_status", "by_ids"}
IMAGE_WRITES = {"create", "save", "edit", "delete"}


def members(kind: type) -> set[str]:
    return {name for name in dir(kind) if not name.startswith("_")}


def test_the_image_repository_writes_images_and_neither_counts_nor_lists_them():
    assert members(records.ImageRepository) & (USAGE_READS | INDEX_READS) == set()
    assert members(ports.ImageRecords) & (USAGE_READS | INDEX_READS) == set()


def test_the_counters_and_the_indexes_have_repositories_of_their_own():
    assert members(records.UsageRepository) >= USAGE_READS and members(ports.UsageRecords) >= USAGE_READS
    assert members(records.ImageIndexes) >= INDEX_READS and members(ports.ImageIndex) >= INDEX_READS
    assert members(records.ImageIndexes) & (IMAGE_WRITES | USAGE_READS) == set()
    assert members(records.UsageRepository) & (IMAGE_WRITES | INDEX_READS) == set()


def test_the_ports_name_each_repository():
    fields = set(ports.Ports.__dataclass_fields__)
    assert {"images", "usage", "image_index", "tasks"} <= fields

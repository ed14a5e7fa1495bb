"""What a list reads instead of the whole table (images/catalog.py), each through an index, in
list_position order (newest first with ``descending``), from just past ``after``; and what the sweeper
reads (workflow/sweeper.py): a status index, and images looked up by id in batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from image_import.adapters.records.images import read_image
from image_import.adapters.records.table import (
    BATCH_GET_KEYS,
    IMAGE,
    LISTED,
    MEMBERSHIP,
    Table,
    batch_items,
    ids_in_status,
)
from image_import.models import Image
from image_import.models.ids import canonical_id


class ImageIndexes(Table):
    """The images table's indexes."""

    model = Image
    BY_OWNER_INDEX, BY_VISIBILITY_INDEX, BY_MEMBER_INDEX = "by-owner", "by-visibility", "by-member"
    ALL_INDEX, BY_STATUS_INDEX = "all-images", "by-status"

    def _record(self, item: dict[str, Any]) -> Image:
        return read_image(item)

    def every(self, after: str | None = None, descending: bool = False) -> Iterator[Image]:
        """Every image (an admin's list), through the index of all images."""
        return self._records(self._query(self.ALL_INDEX, LISTED, IMAGE, after, descending))

    def owned_by(self, project: str, after: str | None = None, descending: bool = False) -> Iterator[Image]:
        return self._records(self._query(self.BY_OWNER_INDEX, "owner", project, after, descending))

    def with_visibility(self, visibility: str, after: str | None = None, descending: bool = False) -> Iterator[Image]:
        return self._records(self._query(self.BY_VISIBILITY_INDEX, "visibility", visibility, after, descending))

    def shared_with(self, project: str, after: str | None = None, descending: bool = False) -> Iterator[Image]:
        """The images whose members include ``project`` (any membership status)."""
        rows = self._query(self.BY_MEMBER_INDEX, MEMBERSHIP, project, after, descending)
        while ids := [row["image_id"]["S"] for row in itertools.islice(rows, BATCH_GET_KEYS)]:
            found = {image.id: image for image in self._records(batch_items(self._dynamodb(), self.table, ids))}
            yield from (found[i] for i in ids if i in found)  # in the index's order

    def in_status(self, status: str, updated_before: str) -> Iterator[Image]:
        """The images in ``status`` last updated at or before ``updated_before`` (a record stamp)."""
        return self._records(
            batch_items(
                self._dynamodb(),
                self.table,
                ids_in_status(self._dynamodb(), self.table, self.BY_STATUS_INDEX, status, updated_before),
            )
        )

    def by_ids(self, image_ids: Iterable[str]) -> dict[str, Image]:
        """The images of these ids that exist, by id: a deleted one's tombstone is none (BatchGetItem)."""
        wanted = (canonical_id(image_id) for image_id in image_ids)
        return {image.id: image for image in self._records(batch_items(self._dynamodb(), self.table, wanted))}

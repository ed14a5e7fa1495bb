"""Image records: created, saved and deleted with their membership rows and their owner's counters in
one transaction (the counters' writes come from records/usage.py), every save conditional on the
version read. Lists and the sweeper read images through records/indexes.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from image_import.adapters.aws import Credentials, is_conditional_failure
from image_import.adapters.records.table import (
    IMAGE,
    LIST_POSITION,
    LISTED,
    MEMBERSHIP,
    TOMBSTONE,
    TRANSACTION_ROWS,
    Repository,
    UsageRefused,
    from_item,
    is_tombstone,
    is_usage,
    membership_key,
    to_item,
)
from image_import.adapters.records.usage import UsageRepository
from image_import.errors import ConcurrentUpdate, UnreadableRecord
from image_import.models import Image
from image_import.models.ids import canonical_id
from image_import.models.quota import Claim, Counted, counted
from image_import.models.time import utcnow


def _write_rows(dynamodb: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Membership rows beyond a transaction's, after the image's write. A row late (or, if this process
    dies here, missing) only hides the image from that member's list until the next member change; a
    row left over costs a list one more read (the image's own members decide what is listed)."""
    for row in rows:
        if "Put" in row:
            dynamodb.put_item(**row["Put"])
        else:
            dynamodb.delete_item(**row["Delete"])


def _membership_row(image: Image, project: str) -> dict[str, Any]:
    return {
        **membership_key(image.id, project),
        MEMBERSHIP: {"S": project},
        "image_id": {"S": image.id},
        LIST_POSITION: {"S": image.list_position},
    }


def image_item(image: Image) -> dict[str, Any]:
    """An image as its item: the record, and what the list indexes sort and select it by."""
    return {**to_item(image), LIST_POSITION: {"S": image.list_position}, LISTED: {"S": IMAGE}}


def _tombstone(image_id: str, owner: str | None) -> dict[str, Any]:
    item = {"id": {"S": image_id}, TOMBSTONE: {"BOOL": True}, "deleted_at": {"S": utcnow()}}
    if owner is not None:
        item["owner"] = {"S": owner}
    return item


def _counted_item(item: dict[str, Any]) -> Counted:
    """What a stored image counts, from its item (nothing for one the model cannot read: it never counted)."""
    try:
        return counted(from_item(Image, item))
    except UnreadableRecord:
        return counted(None)


def _gone(image_id: str) -> Image:
    return Image(id=image_id, status="deleted")


def read_image(item: dict[str, Any]) -> Image:
    """The image an item holds, with what its save compares with: its membership rows and its counts."""
    image = from_item(Image, item)
    image._stored_members = frozenset(image.members)  # what save() compares with: the rows that exist
    image._counted = counted(image)  # what its owner's counters hold for it
    return image


class ImageRepository(Repository):
    """Image records and the rows that go with each write: its membership rows, its owner's counters."""

    model = Image

    def __init__(self, table: str, credentials: Credentials | None = None):
        super().__init__(table, credentials)
        self.usage_rows = UsageRepository(table, credentials)  # the counters its writes move, in the same table

    def get(self, image_id: str) -> Image | None:
        return self._get(canonical_id(image_id))  # ids are keys in one form only (models/ids.py)

    def _record(self, item: dict[str, Any]) -> Image:
        return read_image(item)

    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        return image_item(record)  # type: ignore[arg-type]

    def edit(
        self, image_id: str, change: Callable[[Image | None], Any], attempts: int, claims: Iterable[Claim] = ()
    ) -> Image | None:
        return super().edit(image_id, change, attempts, claims)

    def create(self, image: Image, claims: Iterable[Claim] = ()) -> None:
        """Write a new image (its id must be free); ``claims``: the limits its owner must stay within
        (:class:`OverLimit` otherwise, nothing written)."""
        usage = self.usage_rows.writes(counted(None), image, list(claims))
        try:
            # Glance's own words (its DB layer), for a deleted image's id too: its tombstone holds the id
            self._create(image, f"Image ID {image.id} already exists!", usage)
        except UsageRefused:
            self.usage_rows.refuse(image, counted(None), list(claims))
        image._stored_members = frozenset()  # an image is created unshared (members come by their API)
        image._counted = counted(image)

    def save(self, image: Image, claims: Iterable[Claim] = ()) -> None:
        """Write ``image`` if nobody changed it since it was read (:class:`ConcurrentUpdate` otherwise), with
        its membership rows and its owner's counters; ``claims`` as for ``create``."""
        claims = list(claims)
        usage = self.usage_rows.writes(image._counted, image, claims)
        rows = [
            {"Put": {"TableName": self.table, "Item": _membership_row(image, project)}}
            for project in sorted(set(image.members) - image._stored_members)
        ] + [
            {"Delete": {"TableName": self.table, "Key": membership_key(image.id, project)}}
            for project in sorted(image._stored_members - set(image.members))
        ]
        in_transaction = TRANSACTION_ROWS - len(usage)
        try:
            self._save(image, usage + rows[:in_transaction])
        except UsageRefused:
            self.usage_rows.refuse(image, image._counted, claims)
        _write_rows(self._dynamodb(), self.table, rows[in_transaction:])
        image._stored_members = frozenset(image.members)
        image._counted = counted(image)

    def delete(self, image_id: str, expected_version: int | None = None) -> None:
        """Replace the record by its tombstone (the id stays taken; see TOMBSTONE); with
        ``expected_version`` only if it is still at that version and not protected (else
        :class:`ConcurrentUpdate`: re-read and decide again). A record that is gone stays gone."""
        image_id = canonical_id(image_id)
        item = self._item(image_id)
        if item is None or is_tombstone(item):
            if expected_version is None:
                return
            raise ConcurrentUpdate(f"Image {image_id} was deleted concurrently")
        # conditional on the version of this read, so the tombstone's owner is the record's owner
        version = int(item["version"]["N"])
        if expected_version is not None and version != expected_version:
            raise ConcurrentUpdate(f"Image {image_id} was changed concurrently")
        condition, names, values = "#v = :v", {"#v": "version"}, {":v": {"N": str(version)}}
        if expected_version is not None:
            condition += " AND (attribute_not_exists(#p) OR #p = :unprotected)"
            names["#p"], values[":unprotected"] = "protected", {"BOOL": False}
        put = {
            "TableName": self.table,
            "Item": _tombstone(image_id, item.get("owner", {}).get("S")),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        members = sorted(item.get("members", {}).get("M", {}))
        rows = [{"Delete": {"TableName": self.table, "Key": membership_key(image_id, p)}} for p in members]
        # what it counted leaves its owner's counters with it
        usage = self.usage_rows.writes(_counted_item(item), _gone(image_id), []) if not is_usage(item) else []
        in_transaction = TRANSACTION_ROWS - len(usage)
        try:
            if rows or usage:  # its membership rows and its counters go with it
                self._dynamodb().transact_write_items(TransactItems=[{"Put": put}, *usage, *rows[:in_transaction]])
            else:
                self._dynamodb().put_item(**put)
        except Exception as exc:
            if is_conditional_failure(exc):
                raise ConcurrentUpdate(f"Image {image_id} was changed, protected or deleted concurrently") from None
            raise
        _write_rows(self._dynamodb(), self.table, rows[in_transaction:])

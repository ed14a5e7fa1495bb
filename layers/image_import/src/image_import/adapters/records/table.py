"""What every repository of the records tables shares: items to and from records, the kinds of rows
that are no record (tombstones, membership and usage rows), the one read-change-conditional-write
(``Editable.edit``) over a conditional create and save, index queries, and the one batch reader.

Every save is conditional on the ``version`` the caller read, so two writers can never
silently overwrite each other; the loser gets :class:`ConcurrentUpdate` and re-reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from image_import.adapters.aws import Credentials, client, is_conditional_failure, is_item_too_large
from image_import.errors import ConcurrentUpdate, Conflict, RequestEntityTooLarge, UnreadableRecord

M = TypeVar("M", bound=BaseModel)
MAX_KEY_BYTES = 2048  # DynamoDB's limit for a partition key value
log = logging.getLogger(__name__)  # adapters sit below observability: the standard logger, which Lambda ships


def _serializer():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_item(model: BaseModel) -> dict[str, Any]:
    serializer, _ = _serializer()
    data = model.model_dump(mode="json")
    return {k: serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(cls: type[M], item: dict[str, Any]) -> M:
    """The record an item holds; UnreadableRecord when it holds none (written by hand, or by an older
    version that let through what the model now refuses)."""
    _, deserializer = _serializer()
    try:
        return cls.model_validate({k: _plain(deserializer.deserialize(v)) for k, v in item.items()})
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        record_id = item.get("id", {}).get("S", "?") if isinstance(item.get("id"), dict) else "?"
        raise UnreadableRecord(
            f"{cls.__name__} {record_id} cannot be read: its stored record is invalid. An operator must repair "
            "or remove it."
        ) from exc


def too_large(exc: Exception, record: BaseModel) -> None:
    """DynamoDB's 400 KB item limit as the 413 Glance answers for what exceeds a limit."""
    if is_item_too_large(exc):
        raise RequestEntityTooLarge(
            f"{type(record).__name__} {getattr(record, 'id', '')} is too large to store "
            "(at most 400 KB in all: fewer or shorter properties)."
        ) from None


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


# What a deleted image leaves in its place (OSSN-0075): its id stays taken, so ``create``'s
# ``attribute_not_exists(id)`` refuses it for ever; nothing else ever sees it (``get`` answers None,
# no list index holds it). It has no ``version``, so no ``save`` or conditional delete matches it.
TOMBSTONE = "deleted"


def is_tombstone(item: dict[str, Any]) -> bool:
    return TOMBSTONE in item


# A project an image is shared with, as a row of its own beside the image (the image's ``members`` map
# stays the record; DynamoDB cannot index a map's keys): the ``by-member`` index finds the images
# shared with a project without a scan. Written in the same transaction as the image, so the two never
# disagree; no read shows a row as an image.
MEMBERSHIP = "member_of"


def is_membership(item: dict[str, Any]) -> bool:
    return MEMBERSHIP in item


def membership_key(image_id: str, project: str) -> dict[str, Any]:
    return {"id": {"S": f"{image_id}/members/{project}"}}


# A project's quota counters (models/quota.py), one row per project beside its images: changed in the same
# transaction as the image write they count, and conditional on the limits that write claims.
USAGE = "usage_of"


CHANGED_AT, WRITES = "changed_at", "counted_writes"  # the last counted write, and how many there were


def is_usage(item: dict[str, Any]) -> bool:
    return USAGE in item


def usage_key(project: str) -> dict[str, Any]:
    return {"id": {"S": f"usage/{project}"}}


class UsageRefused(Exception):
    """A transaction's usage row refused its condition (a claim failed)."""


LIST_PAGE = 100  # items a list index query reads at a time (a page of 25 rarely needs a second)

# TransactWriteItems takes 100 writes: the image's own and this many rows; the rest follow it, one by one
TRANSACTION_ROWS = 99


# The list indexes' sort key (Image.list_position), on images and their membership rows, and the one
# value every image has for the index of all images (an admin's list); a tombstone has neither, so no
# list index holds it.
LIST_POSITION, LISTED, IMAGE, TASK = "list_position", "listed", "image", "task"


def is_row(item: dict[str, Any]) -> bool:
    """A tombstone, a membership row or a usage row: an item that holds no record."""
    return is_tombstone(item) or is_membership(item) or is_usage(item)


def raise_if_usage_refused(exc: Exception) -> None:
    """A cancelled transaction whose first write (the record's) passed but a later one (a usage row) did not."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if codes and codes[0] != "ConditionalCheckFailed" and "ConditionalCheckFailed" in codes[1:]:
        raise UsageRefused() from None


class Editable:
    """The read-change-write every record change goes through, over a ``get`` and a conditional ``save``
    (the DynamoDB repositories below, and the in-memory fakes of the tests)."""

    def get(self, record_id: str) -> Any: ...
    def save(self, record: Any) -> None: ...

    def edit(self, record_id: str, change: Callable[[Any], Any], attempts: int, claims: Iterable[Any] = ()) -> Any:
        """The one read-change-write: read the record, let ``change`` edit it, save it conditionally on
        the version read; when another writer got in first, read it again and re-apply ``change``.

        ``change`` receives the record as it is now, freshly read on every attempt (None when there is
        none), so checks it makes (access, status, lock) are made again on what is there now. It may
        raise: the error propagates and nothing is saved. It returns a true value once it has edited the
        record (save it), a false one (False, None) to leave it unsaved: it is gone or has moved on,
        nothing to do. ``change`` sets ``updated_at`` itself where the write should show.

        Returns the saved record (its version bumped), or None when ``change`` skipped. Raises
        :class:`ConcurrentUpdate` when all ``attempts`` lost to other writers; callers turn that into
        what their caller should see (Conflict, TaskAborted, ...). ``claims``: an image's, passed on to
        ``save`` (models/quota.py).
        """
        for _ in range(attempts):
            record = self.get(record_id)
            if not change(record):
                return None
            try:
                # looked up on the instance: tests put racing writers there
                self.save(record, claims=claims) if claims else self.save(record)
            except ConcurrentUpdate:
                continue
            return record
        raise ConcurrentUpdate(f"{record_id} kept changing; gave up after {attempts} attempts")


class Table:
    """One item kind's reads of a records table (its model's items; rows of other kinds left out)."""

    model: type[BaseModel]

    def __init__(self, table: str, credentials: Credentials | None = None):
        # credentials: an assumed role's (a plugin's, scoped to its image) instead of the function's own
        self.table, self.credentials = table, credentials

    def _dynamodb(self) -> Any:
        return client("dynamodb", credentials=self.credentials)

    def _item(self, key: str) -> dict[str, Any] | None:
        if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            return None  # no record can have such an id; DynamoDB would refuse the request
        return self._dynamodb().get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")

    def _record(self, item: dict[str, Any]) -> Any:
        return from_item(self.model, item)

    def _query(
        self, index: str, attribute: str, value: str, after: str | None = None, descending: bool = False
    ) -> Iterator[dict[str, Any]]:
        """An index's items for one key value; on the list indexes in ``list_position`` order, from just
        past ``after`` (a list's marker), read a page at a time as they are consumed."""
        condition, names, values = "#k = :v", {"#k": attribute}, {":v": {"S": value}}
        if after is not None:
            condition += f" AND #p {'<' if descending else '>'} :after"
            names["#p"], values[":after"] = LIST_POSITION, {"S": after}
        paginator = self._dynamodb().get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=not descending,
            PaginationConfig={"PageSize": LIST_PAGE},
        ):
            yield from page.get("Items", [])

    def _records(self, items: Iterable[dict[str, Any]]) -> Iterator[Any]:
        for item in items:
            if is_row(item):  # checked first: none is a record
                continue
            try:
                yield self._record(item)
            except UnreadableRecord as exc:  # one bad record must not break every list
                log.warning("%s: left out of a list: %s", self.table, exc)


class Repository(Table, Editable):
    """A record kind that is written: the conditional create and save ``Editable.edit`` goes through."""

    def _get(self, key: str):
        item = self._item(key)
        return self._record(item) if item and not is_row(item) else None

    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        return to_item(record)

    def _create(self, record: BaseModel, duplicate_message: str, also: list[dict[str, Any]] | None = None) -> None:
        put = {
            "TableName": self.table,
            "Item": self._item_of(record),
            "ConditionExpression": "attribute_not_exists(id)",
        }
        try:
            self._put(put, also)
        except Exception as exc:
            if is_conditional_failure(exc):
                raise_if_usage_refused(exc)
                raise Conflict(duplicate_message) from None
            too_large(exc, record)
            raise

    def _put(self, put: dict[str, Any], also: list[dict[str, Any]] | None) -> None:
        """One conditional put, or with ``also`` one transaction: all of it happens or none."""
        if also:
            self._dynamodb().transact_write_items(TransactItems=[{"Put": put}, *also])
        else:
            self._dynamodb().put_item(**put)

    def _save(self, record: Any, also: list[dict[str, Any]] | None = None) -> None:
        """Write ``record`` if nobody changed it since it was read; bumps its version. ``also``: more
        writes (TransactWriteItems entries) that happen together with it or not at all."""
        expected = record.version
        record.version = expected + 1
        put = {
            "TableName": self.table,
            "Item": self._item_of(record),
            "ConditionExpression": "attribute_exists(id) AND #v = :v",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"N": str(expected)}},
        }
        try:
            self._put(put, also)
        except Exception as exc:
            record.version = expected
            if is_conditional_failure(exc):
                raise_if_usage_refused(exc)
                raise ConcurrentUpdate(
                    f"{self.model.__name__} {record.id} was changed or deleted concurrently"
                ) from None
            too_large(exc, record)
            raise


# BatchGetItem's limit of keys a request
BATCH_GET_KEYS = 100


def ids_in_status(dynamodb: Any, table: str, index: str, status: str, updated_before: str) -> Iterator[str]:
    """The ids a ``by-status`` index (hash ``status``, range ``updated_at``, keys only) holds for ``status``
    up to ``updated_before``. Tombstones and membership rows have no ``status``: the index never has them."""
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#s = :s AND #u <= :u",
        ExpressionAttributeNames={"#s": "status", "#u": "updated_at"},
        ExpressionAttributeValues={":s": {"S": status}, ":u": {"S": updated_before}},
    ):
        for item in page.get("Items", []):
            yield item["id"]["S"]


def batch_items(dynamodb: Any, table: str, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The one batch reader: the items of these ids (consistent reads), ``BATCH_GET_KEYS`` a request, what
    DynamoDB leaves unprocessed asked again with backoff; ids no record can have
    (empty, longer than a key may be) and repeats are left out, as DynamoDB would refuse the request."""
    batch: list[str] = []
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen or not record_id or len(record_id.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            continue
        seen.add(record_id)
        batch.append(record_id)
        if len(batch) == BATCH_GET_KEYS:
            yield from _batch_get_once(dynamodb, table, batch)
            batch = []
    if batch:
        yield from _batch_get_once(dynamodb, table, batch)


def _batch_get_once(dynamodb: Any, table: str, ids: list[str]) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {table: {"Keys": [{"id": {"S": i}} for i in ids], "ConsistentRead": True}}
    attempt = 0
    while request:  # what DynamoDB left unprocessed (throttled, or over 16 MB) is asked again
        if attempt:
            time.sleep(min(0.05 * 2**attempt, 2.0))  # backing off, as AWS asks for unprocessed keys
        answer = dynamodb.batch_get_item(RequestItems=request)
        yield from answer["Responses"].get(table, [])
        request, attempt = answer.get("UnprocessedKeys") or {}, attempt + 1

"""DynamoDB repositories for image and task records, with optimistic concurrency.

Every save is conditional on the ``version`` the caller read, so two writers can never
silently overwrite each other; the loser gets :class:`ConcurrentUpdate` and re-reads.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from image_import.adapters.aws import Credentials, client, is_conditional_failure, is_item_too_large
from image_import.errors import ConcurrentUpdate, Conflict, RequestEntityTooLarge, UnreadableRecord
from image_import.models import Image, Task
from image_import.models.ids import canonical_id
from image_import.models.quota import RESOURCES, Claim, Counted, OverLimit, changes, counted, overrun_slot
from image_import.models.time import utcnow

M = TypeVar("M", bound=BaseModel)
MAX_KEY_BYTES = 2048  # DynamoDB's limit for a partition key value
log = logging.getLogger(__name__)  # adapters sit below observability: the standard logger, which Lambda ships


def _serializer():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _to_item(model: BaseModel) -> dict[str, Any]:
    serializer, _ = _serializer()
    data = model.model_dump(mode="json")
    return {k: serializer.serialize(v) for k, v in data.items() if v is not None}


def _from_item(cls: type[M], item: dict[str, Any]) -> M:
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


def _too_large(exc: Exception, record: BaseModel) -> None:
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


def _is_tombstone(item: dict[str, Any]) -> bool:
    return TOMBSTONE in item


# A project an image is shared with, as a row of its own beside the image (the image's ``members`` map
# stays the record; DynamoDB cannot index a map's keys): the ``by-member`` index finds the images
# shared with a project without a scan. Written in the same transaction as the image, so the two never
# disagree; no read shows a row as an image.
MEMBERSHIP = "member_of"


def _is_membership(item: dict[str, Any]) -> bool:
    return MEMBERSHIP in item


def _membership_key(image_id: str, project: str) -> dict[str, Any]:
    return {"id": {"S": f"{image_id}/members/{project}"}}


# A project's quota counters (models/quota.py), one row per project beside its images: changed in the same
# transaction as the image write they count, and conditional on the limits that write claims.
USAGE = "usage_of"


CHANGED_AT, WRITES = "changed_at", "counted_writes"  # the last counted write, and how many there were


def _is_usage(item: dict[str, Any]) -> bool:
    return USAGE in item


def _usage_key(project: str) -> dict[str, Any]:
    return {"id": {"S": f"usage/{project}"}}


class _UsageRefused(Exception):
    """A transaction's usage row refused its condition (a claim failed)."""


LIST_PAGE = 100  # items a list index query reads at a time (a page of 25 rarely needs a second)

# TransactWriteItems takes 100 writes: the image's own and this many rows; the rest follow it, one by one
TRANSACTION_ROWS = 99


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
        **_membership_key(image.id, project),
        MEMBERSHIP: {"S": project},
        "image_id": {"S": image.id},
        LIST_POSITION: {"S": image.list_position},
    }


# The list indexes' sort key (Image.list_position), on images and their membership rows, and the one
# value every image has for the index of all images (an admin's list); a tombstone has neither, so no
# list index holds it.
LIST_POSITION, LISTED, IMAGE, TASK = "list_position", "listed", "image", "task"


def image_item(image: Image) -> dict[str, Any]:
    """An image as its item: the record, and what the list indexes sort and select it by."""
    return {**_to_item(image), LIST_POSITION: {"S": image.list_position}, LISTED: {"S": IMAGE}}


def _tombstone(image_id: str, owner: str | None) -> dict[str, Any]:
    item = {"id": {"S": image_id}, TOMBSTONE: {"BOOL": True}, "deleted_at": {"S": utcnow()}}
    if owner is not None:
        item["owner"] = {"S": owner}
    return item


def _raise_if_usage_refused(exc: Exception) -> None:
    """A cancelled transaction whose first write (the record's) passed but a later one (a usage row) did not."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if codes and codes[0] != "ConditionalCheckFailed" and "ConditionalCheckFailed" in codes[1:]:
        raise _UsageRefused() from None


def _counters(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(item[name]["N"]) for name in RESOURCES if name in item}


def _holders(item: dict[str, Any]) -> dict[str, str]:
    """Resource -> the operation a usage row names as holding its overrun slot."""
    return {name: item[overrun_slot(name)]["S"] for name in RESOURCES if overrun_slot(name) in item}


def _counted_item(item: dict[str, Any]) -> Counted:
    """What a stored image counts, from its item (nothing for one the model cannot read: it never counted)."""
    try:
        return counted(_from_item(Image, item))
    except UnreadableRecord:
        return counted(None)


def _gone(image_id: str) -> Image:
    return Image(id=image_id, status="deleted")


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


class _Repository(Editable):
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

    def _get(self, key: str):
        item = self._item(key)
        return (
            self._record(item)
            if item and not (_is_tombstone(item) or _is_membership(item) or _is_usage(item))
            else None
        )

    def _record(self, item: dict[str, Any]) -> Any:
        return _from_item(self.model, item)

    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        return _to_item(record)

    def _create(self, record: BaseModel, duplicate_message: str, also: list[dict[str, Any]] | None = None) -> None:
        put = {
            "TableName": self.table,
            "Item": self._item_of(record),
            "ConditionExpression": "attribute_not_exists(id)",
        }
        try:
            if also:
                self._dynamodb().transact_write_items(TransactItems=[{"Put": put}, *also])
            else:
                self._dynamodb().put_item(**put)
        except Exception as exc:
            if is_conditional_failure(exc):
                _raise_if_usage_refused(exc)
                raise Conflict(duplicate_message) from None
            _too_large(exc, record)
            raise

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
            if also:
                self._dynamodb().transact_write_items(TransactItems=[{"Put": put}, *also])
            else:
                self._dynamodb().put_item(**put)
        except Exception as exc:
            record.version = expected
            if is_conditional_failure(exc):
                _raise_if_usage_refused(exc)
                raise ConcurrentUpdate(
                    f"{self.model.__name__} {record.id} was changed or deleted concurrently"
                ) from None
            _too_large(exc, record)
            raise

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
            if _is_tombstone(item) or _is_membership(item) or _is_usage(item):  # checked first: none is a record
                continue
            try:
                yield self._record(item)
            except UnreadableRecord as exc:  # one bad record must not break every list
                log.warning("%s: left out of a list: %s", self.table, exc)


class ImageRepository(_Repository):
    model = Image
    BY_OWNER_INDEX, BY_VISIBILITY_INDEX, BY_MEMBER_INDEX = "by-owner", "by-visibility", "by-member"
    BY_USAGE_INDEX, ALL_INDEX = "by-usage", "all-images"

    def get(self, image_id: str) -> Image | None:
        return self._get(canonical_id(image_id))  # ids are keys in one form only (models/ids.py)

    def _record(self, item: dict[str, Any]) -> Image:
        image = _from_item(Image, item)
        image._stored_members = frozenset(image.members)  # what save() compares with: the rows that exist
        image._counted = counted(image)  # what its owner's counters hold for it
        return image

    def edit(
        self, image_id: str, change: Callable[[Image | None], Any], attempts: int, claims: Iterable[Claim] = ()
    ) -> Image | None:
        return super().edit(image_id, change, attempts, claims)

    def create(self, image: Image, claims: Iterable[Claim] = ()) -> None:
        """Write a new image (its id must be free); ``claims``: the limits its owner must stay within
        (:class:`OverLimit` otherwise, nothing written)."""
        usage = self._usage_writes(counted(None), image, list(claims))
        try:
            # Glance's own words (its DB layer), for a deleted image's id too: its tombstone holds the id
            self._create(image, f"Image ID {image.id} already exists!", usage)
        except _UsageRefused:
            self._refused(image, counted(None), list(claims))
        image._stored_members = frozenset()  # an image is created unshared (members come by their API)
        image._counted = counted(image)

    def save(self, image: Image, claims: Iterable[Claim] = ()) -> None:
        """Write ``image`` if nobody changed it since it was read (:class:`ConcurrentUpdate` otherwise), with
        its membership rows and its owner's counters; ``claims`` as for ``create``."""
        claims = list(claims)
        usage = self._usage_writes(image._counted, image, claims)
        rows = [
            {"Put": {"TableName": self.table, "Item": _membership_row(image, project)}}
            for project in sorted(set(image.members) - image._stored_members)
        ] + [
            {"Delete": {"TableName": self.table, "Key": _membership_key(image.id, project)}}
            for project in sorted(image._stored_members - set(image.members))
        ]
        in_transaction = TRANSACTION_ROWS - len(usage)
        try:
            self._save(image, usage + rows[:in_transaction])
        except _UsageRefused:
            self._refused(image, image._counted, claims)
        _write_rows(self._dynamodb(), self.table, rows[in_transaction:])
        image._stored_members = frozenset(image.members)
        image._counted = counted(image)

    # ---- quota counters (models/quota.py)
    def usage(self, project: str) -> dict[str, int]:
        """The project's counters (bytes for the sizes); {} when it has none."""
        return self.usage_row(project)[0]

    def usage_row(self, project: str) -> tuple[dict[str, int], str | None, int]:
        """The project's counters, when a write last moved them (None: never) and how many writes did."""
        found = self._usage_item(project)
        return _counters(found), found.get(CHANGED_AT, {}).get("S"), int(found.get(WRITES, {}).get("N", 0))

    def _usage_item(self, project: str) -> dict[str, Any]:
        """The project's usage row as stored ({} when it has none)."""
        return (
            self._dynamodb().get_item(TableName=self.table, Key=_usage_key(project), ConsistentRead=True).get("Item")
            or {}
        )

    def _usage_writes(self, before: Counted, image: Image, claims: list[Claim]) -> list[dict[str, Any]]:
        """The transaction's writes to counters: each project's row the write moves, with the claims (on the
        image's owner) as its condition. A claim no usage can meet is refused here, before any write."""
        moves = changes(before, counted(image))
        owner = image.owner
        if claims and owner is not None:
            moves.setdefault(owner, {})
        writes = []
        for project, deltas in sorted(moves.items()):
            own = claims if project == owner else []
            names, values, conditions = (
                {"#u": USAGE, "#t": CHANGED_AT, "#w": WRITES},
                {":p": {"S": project}, ":t": {"S": utcnow()}, ":one": {"N": "1"}},
                [],
            )
            sets = ["#u = :p", "#t = :t"]
            for i, claim in enumerate(own):
                rise = deltas.get(claim.resource, 0)
                if claim.rising_only and rise <= 0:
                    continue  # a write that adds nothing to this counter claims nothing of it
                names[f"#c{i}"] = claim.resource
                if claim.overrun_by is not None:
                    # past the limit: only the slot's holder, or whoever takes it while the project is not over
                    names[f"#o{i}"] = overrun_slot(claim.resource)
                    values[f":o{i}"] = {"S": claim.overrun_by}
                    values[f":m{i}"] = {"N": str(claim.highest_before_overrun())}
                    conditions.append(
                        f"(#o{i} = :o{i} OR (attribute_not_exists(#o{i}) AND "
                        f"(attribute_not_exists(#c{i}) OR #c{i} <= :m{i})))"
                    )
                    sets.append(f"#o{i} = :o{i}")
                    continue
                highest = claim.highest_counter(rise)
                if claim.may_cross:  # within the limit, or across it if nobody is and the project is not over
                    names[f"#o{i}"] = overrun_slot(claim.resource)
                    values[f":m{i}"] = {"N": str(highest)}
                    values[f":u{i}"] = {"N": str(claim.highest_before_overrun())}
                    conditions.append(
                        f"(attribute_not_exists(#c{i}) OR #c{i} <= :m{i} OR "
                        f"(attribute_not_exists(#o{i}) AND #c{i} <= :u{i}))"
                    )
                    continue
                if highest < 0:
                    self._refused(image, before, claims)
                values[f":m{i}"] = {"N": str(highest)}
                conditions.append(f"(attribute_not_exists(#c{i}) OR #c{i} <= :m{i})")
            adds = ["#w :one"]
            for i, (name, delta) in enumerate(sorted(deltas.items())):
                names[f"#a{i}"], values[f":a{i}"] = name, {"N": str(delta)}
                adds.append(f"#a{i} :a{i}")
            update: dict[str, Any] = {
                "TableName": self.table,
                "Key": _usage_key(project),
                "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            if conditions:
                update["ConditionExpression"] = " AND ".join(conditions)
            writes.append({"Update": update})
        return writes

    def _refused(self, image: Image, before: Counted, claims: list[Claim]) -> None:
        """Raise OverLimit with the counters as they are now; ConcurrentUpdate if they meet the claims now
        (they moved since the write was refused: the caller reads again and retries)."""
        own_change = changes(before, counted(image)).get(image.owner or "", {})
        row = self._usage_item(image.owner or "")  # one read: the counters and the slots' holders
        now, holders = _counters(row), _holders(row)
        refused = [
            c
            for c in claims
            if not c.allows(now.get(c.resource, 0), own_change.get(c.resource, 0), holders.get(c.resource))
        ]
        if not refused:
            raise ConcurrentUpdate(f"the usage of project {image.owner} changed concurrently")
        raise OverLimit(image.owner or "", refused, now, own_change)

    def overrun_holders(self, project: str) -> dict[str, str]:
        """Resource -> the operation holding the project's overrun slot of it (models/quota.py)."""
        return _holders(self._usage_item(project))

    def release_overrun(self, project: str, resource: str, operation: str) -> bool:
        """Free the project's overrun slot of ``resource`` if ``operation`` holds it; False if it does not."""
        try:
            self._dynamodb().update_item(
                TableName=self.table,
                Key=_usage_key(project),
                UpdateExpression="REMOVE #o",
                ConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": overrun_slot(resource)},
                ExpressionAttributeValues={":o": {"S": operation}},
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def set_usage(self, project: str, writes: int, counters: dict[str, int]) -> bool:
        """Repair: replace the project's counters by ``counters`` if no write moved them since ``usage_row``
        read ``writes`` counted writes; False when one did (read again)."""
        names = {"#u": USAGE, "#w": WRITES}
        values: dict[str, Any] = {":p": {"S": project}}
        sets = ["#u = :p"]
        for i, name in enumerate(RESOURCES):
            names[f"#c{i}"], values[f":c{i}"] = name, {"N": str(counters.get(name, 0))}
            sets.append(f"#c{i} = :c{i}")
        if writes == 0:
            condition = "attribute_not_exists(#w)"
        else:
            condition, values[":w"] = "#w = :w", {"N": str(writes)}
        try:
            self._dynamodb().update_item(
                TableName=self.table,
                Key=_usage_key(project),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def counted_projects(self) -> Iterator[str]:
        """Every project with counters: the usage rows, through their own (sparse) index."""
        paginator = self._dynamodb().get_paginator("scan")
        for page in paginator.paginate(TableName=self.table, IndexName=self.BY_USAGE_INDEX):
            for item in page.get("Items", []):
                yield item[USAGE]["S"]

    # ---- what a list reads instead of the whole table (images.catalog), each through an index, in
    # list_position order (newest first with ``descending``), from just past ``after``
    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        return image_item(record)  # type: ignore[arg-type]

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

    # ---- what the sweeper reads instead of the whole table (workflow/sweeper.py)
    BY_STATUS_INDEX = "by-status"

    def in_status(self, status: str, updated_before: str) -> Iterator[Image]:
        """The images in ``status`` last updated at or before ``updated_before`` (a record stamp)."""
        return self._records(
            batch_items(
                self._dynamodb(),
                self.table,
                _ids_in_status(self._dynamodb(), self.table, self.BY_STATUS_INDEX, status, updated_before),
            )
        )

    def by_ids(self, image_ids: Iterable[str]) -> dict[str, Image]:
        """The images of these ids that exist, by id: a deleted one's tombstone is none (BatchGetItem)."""
        wanted = (canonical_id(image_id) for image_id in image_ids)
        return {image.id: image for image in self._records(batch_items(self._dynamodb(), self.table, wanted))}

    def delete(self, image_id: str, expected_version: int | None = None) -> None:
        """Replace the record by its tombstone (the id stays taken; see TOMBSTONE); with
        ``expected_version`` only if it is still at that version and not protected (else
        :class:`ConcurrentUpdate`: re-read and decide again). A record that is gone stays gone."""
        image_id = canonical_id(image_id)
        item = self._item(image_id)
        if item is None or _is_tombstone(item):
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
        rows = [{"Delete": {"TableName": self.table, "Key": _membership_key(image_id, p)}} for p in members]
        # what it counted leaves its owner's counters with it
        usage = self._usage_writes(_counted_item(item), _gone(image_id), []) if not _is_usage(item) else []
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


class TaskRepository(_Repository):
    model = Task
    BY_IMAGE_INDEX = "by-image"

    def get(self, task_id: str) -> Task | None:
        return self._get(canonical_id(task_id))

    def edit(self, task_id: str, change: Callable[[Task | None], Any], attempts: int) -> Task | None:
        return super().edit(task_id, change, attempts)

    def create(self, task: Task) -> None:
        self._create(task, f"Task {task.id} already exists")

    def save(self, task: Task) -> None:
        self._save(task)

    # ---- what GET /v2/tasks reads instead of the whole table: in list_position order, from just past ``after``
    BY_OWNER_INDEX, ALL_INDEX = "by-owner", "all-tasks"

    def _item_of(self, record: BaseModel) -> dict[str, Any]:
        task: Task = record  # type: ignore[assignment]
        return {**_to_item(task), LIST_POSITION: {"S": task.list_position}, LISTED: {"S": TASK}}

    def every(self, after: str | None = None, descending: bool = False) -> Iterator[Task]:
        return self._records(self._query(self.ALL_INDEX, LISTED, TASK, after, descending))

    def owned_by(self, project: str, after: str | None = None, descending: bool = False) -> Iterator[Task]:
        return self._records(self._query(self.BY_OWNER_INDEX, "owner", project, after, descending))

    def for_image(self, image_id: str) -> list[Task]:
        """Tasks of one image, oldest first (as Glance lists them)."""
        paginator = self._dynamodb().get_paginator("query")
        tasks: list[Task] = []
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=self.BY_IMAGE_INDEX,
            KeyConditionExpression="image_id = :i",
            ExpressionAttributeValues={":i": {"S": canonical_id(image_id)}},
            ScanIndexForward=True,
        ):
            tasks.extend(_from_item(Task, item) for item in page.get("Items", []))
        return tasks

    # ---- what the sweeper reads instead of the whole table (workflow/sweeper.py)
    BY_STATUS_INDEX = "by-status"

    def in_status(self, status: str, updated_before: str) -> Iterator[Task]:
        """The tasks in ``status`` last updated at or before ``updated_before`` (a record stamp)."""
        return self._records(
            batch_items(
                self._dynamodb(),
                self.table,
                _ids_in_status(self._dynamodb(), self.table, self.BY_STATUS_INDEX, status, updated_before),
            )
        )


# BatchGetItem's limit of keys a request
BATCH_GET_KEYS = 100


def _ids_in_status(dynamodb: Any, table: str, index: str, status: str, updated_before: str) -> Iterator[str]:
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

"""A project's quota counters (models/quota.py): one usage row per project beside its images, changed in
the same transaction as the image write they count (records/images.py asks this module for those writes)
and conditional on the limits that write claims; the overrun slots (quotas/growth.py) are attributes of
the same row. The sweeper repairs the counters through ``usage_row`` and ``set_usage`` (quotas/repair.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from image_import.adapters.aws import is_conditional_failure
from image_import.adapters.records.table import CHANGED_AT, USAGE, WRITES, Table, usage_key
from image_import.errors import ConcurrentUpdate
from image_import.models import Image
from image_import.models.quota import RESOURCES, Claim, Counted, OverLimit, changes, counted, overrun_slot
from image_import.models.time import utcnow


def _counters(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(item[name]["N"]) for name in RESOURCES if name in item}


def _holders(item: dict[str, Any]) -> dict[str, str]:
    """Resource -> the operation a usage row names as holding its overrun slot."""
    return {name: item[overrun_slot(name)]["S"] for name in RESOURCES if overrun_slot(name) in item}


class UsageRepository(Table):
    """The usage rows of an images table."""

    BY_USAGE_INDEX = "by-usage"

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
            self._dynamodb().get_item(TableName=self.table, Key=usage_key(project), ConsistentRead=True).get("Item")
            or {}
        )

    def writes(self, before: Counted, image: Image, claims: list[Claim]) -> list[dict[str, Any]]:
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
                    self.refuse(image, before, claims)
                values[f":m{i}"] = {"N": str(highest)}
                conditions.append(f"(attribute_not_exists(#c{i}) OR #c{i} <= :m{i})")
            adds = ["#w :one"]
            for i, (name, delta) in enumerate(sorted(deltas.items())):
                names[f"#a{i}"], values[f":a{i}"] = name, {"N": str(delta)}
                adds.append(f"#a{i} :a{i}")
            update: dict[str, Any] = {
                "TableName": self.table,
                "Key": usage_key(project),
                "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            if conditions:
                update["ConditionExpression"] = " AND ".join(conditions)
            writes.append({"Update": update})
        return writes

    def refuse(self, image: Image, before: Counted, claims: list[Claim]) -> None:
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
                Key=usage_key(project),
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
                Key=usage_key(project),
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

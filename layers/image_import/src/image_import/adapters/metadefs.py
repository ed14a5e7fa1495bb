"""The metadata-definitions table (DynamoDB): one partition per namespace, one item per record in it.

Keys: ``pk`` is ``ns#<namespace>``; ``sk`` is ``namespace`` for the namespace itself and
``<kind>#<key>`` for what it holds (``object#<name>``, ``property#<name>``, ``tag#<name, lower case>``,
``resource_type#<name>``). The resource types ever associated live in their own partition,
``pk = resource_types``, ``sk = <name>``. Each item keeps its record as a JSON document (``body``):
property schemas carry floats, which DynamoDB's number type would turn into Decimals, and nothing
queries inside a record. ``seq`` (nanoseconds at creation) orders records created in the same second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from image_import.adapters.aws import client, is_conditional_failure, is_item_too_large
from image_import.errors import RequestEntityTooLarge
from image_import.models.metadef import MetadefNamespace

HEAD = "namespace"
RESOURCE_TYPES = "resource_types"
KINDS = ("object", "property", "tag", "resource_type")


def _pk(name: str) -> str:
    return f"ns#{name}"


def _sk(kind: str, key: str) -> str:
    return HEAD if kind == HEAD else f"{kind}#{key}"


class DynamoMetadefStore:
    """The ``MetadefRecords`` port (adapters/ports.py) on the metadefs table."""

    def __init__(self, table_name: str):
        self.table_name = table_name

    # ---------------------------------------------------------------- reads
    def namespaces(self) -> list[MetadefNamespace]:
        items = self._scan(FilterExpression="sk = :head", ExpressionAttributeValues={":head": {"S": HEAD}})
        return [MetadefNamespace.model_validate(document) for document in _ordered(items)]

    def namespace(self, name: str) -> MetadefNamespace | None:
        document = self.child(name, HEAD, "")
        return MetadefNamespace.model_validate(document) if document is not None else None

    def contents(self, name: str, kind: str) -> list[dict[str, Any]]:
        return _ordered(self._query(_pk(name), f"{kind}#"))

    def child(self, name: str, kind: str, key: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table_name, Key=_key(_pk(name), _sk(kind, key)), ConsistentRead=True)
            .get("Item")
        )
        return json.loads(item["body"]["S"]) if item else None

    def resource_types(self) -> list[dict[str, Any]]:
        return _ordered(self._query(RESOURCE_TYPES, ""))

    # ---------------------------------------------------------------- writes
    def add_namespace(self, namespace: MetadefNamespace) -> bool:
        return self.add(namespace.namespace, HEAD, "", namespace.document())

    def put_namespace(self, namespace: MetadefNamespace) -> None:
        self.put(namespace.namespace, HEAD, "", namespace.document())

    def add(self, name: str, kind: str, key: str, record: dict[str, Any]) -> bool:
        """Create the record; False if one with this key exists already."""
        return self._create(_pk(name), _sk(kind, key), record, kind)

    def put(self, name: str, kind: str, key: str, record: dict[str, Any]) -> None:
        try:
            client("dynamodb").put_item(TableName=self.table_name, Item=_item(_pk(name), _sk(kind, key), record))
        except Exception as exc:
            _raise_if_too_large(exc, kind, record)
            raise

    def remove(self, name: str, kind: str, key: str) -> bool:
        reply = client("dynamodb").delete_item(
            TableName=self.table_name, Key=_key(_pk(name), _sk(kind, key)), ReturnValues="ALL_OLD"
        )
        return "Attributes" in reply

    def remove_all(self, name: str, kind: str | None = None) -> None:
        """Every record of one kind in the namespace, or (kind None) the namespace and all it holds."""
        prefix = f"{kind}#" if kind else ""
        keys = [_key(item["pk"]["S"], item["sk"]["S"]) for item in self._query_items(_pk(name), prefix)]
        dynamodb = client("dynamodb")
        for start in range(0, len(keys), 25):  # BatchWriteItem's limit
            pending = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
            for _ in range(8):
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05)

    def add_resource_type(self, record: dict[str, Any]) -> bool:
        return self._create(RESOURCE_TYPES, record["name"], record, "resource_type")

    # ---------------------------------------------------------------- plumbing
    def _create(self, pk: str, sk: str, record: dict[str, Any], kind: str) -> bool:
        try:
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item=_item(pk, sk, record),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            _raise_if_too_large(exc, kind, record)
            raise
        return True

    def _query_items(self, pk: str, prefix: str) -> Iterator[dict[str, Any]]:
        condition, values = "pk = :pk", {":pk": {"S": pk}}
        if prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            reply = client("dynamodb").query(**request)
            yield from reply.get("Items", [])
            if "LastEvaluatedKey" not in reply:
                return
            request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return list(self._query_items(pk, prefix))

    def _scan(self, **request: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request = {"TableName": self.table_name, "ConsistentRead": True, **request}
        while True:
            reply = client("dynamodb").scan(**request)
            items.extend(reply.get("Items", []))
            if "LastEvaluatedKey" not in reply:
                return items
            request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


# what the 413 calls each kind of record (Glance's own names for them)
_KIND_NAMES = {HEAD: "namespace", "resource_type": "resource type association"}


def _raise_if_too_large(exc: Exception, kind: str, record: dict[str, Any]) -> None:
    """DynamoDB's 400 KB item limit as the 413 the image records answer (adapters/records/table.py), not a 5xx."""
    if is_item_too_large(exc):
        name = record.get("namespace") if kind == HEAD else record.get("name")
        raise RequestEntityTooLarge(
            f"Metadata definition {_KIND_NAMES.get(kind, kind)} {name} is too large to store "
            "(at most 400 KB in all: a shorter description or schema)."
        ) from None


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item(pk: str, sk: str, record: dict[str, Any]) -> dict[str, Any]:
    seq = record.get("_seq") or time.time_ns()
    body = {**record, "_seq": seq}
    return {**_key(pk, sk), "body": {"S": json.dumps(body, ensure_ascii=False)}, "seq": {"N": str(seq)}}


def _ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records in creation order (what Glance's database returns without a sort)."""
    return [json.loads(item["body"]["S"]) for item in sorted(items, key=lambda item: int(item["seq"]["N"]))]

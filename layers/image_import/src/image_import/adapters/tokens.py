"""The tokens table (DynamoDB): one item per token, keyed by the SHA-256 of the token."""

from __future__ import annotations

from typing import Any

from image_import.adapters.aws import client
from image_import.settings import ConfigError, get_resources


class DynamoTokenStore:
    def __init__(self, table_name: str):
        self.table_name = table_name

    @classmethod
    def of_this_function(cls) -> DynamoTokenStore:
        """The stack's tokens table, named in this function's environment (``TOKENS_TABLE``)."""
        table = get_resources().tokens_table
        if not table:
            raise ConfigError("[identity] backend = dynamodb needs the TOKENS_TABLE environment variable")
        return cls(table)

    def put(self, token_hash: str, record: dict[str, Any]) -> None:
        item = {
            "token_hash": {"S": token_hash},
            "user_id": {"S": record["user_id"]},
            "project_id": {"S": record["project_id"]},
            "roles": {"S": ",".join(record["roles"])},
            "expires_at": {"N": str(int(record["expires_at"]))},  # also the table's TTL attribute
        }
        client("dynamodb").put_item(TableName=self.table_name, Item=item)

    def get(self, token_hash: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table_name, Key={"token_hash": {"S": token_hash}}, ConsistentRead=True)
            .get("Item")
        )
        if item is None:
            return None
        return {
            "user_id": item["user_id"]["S"],
            "project_id": item["project_id"]["S"],
            "roles": [r for r in item["roles"]["S"].split(",") if r],
            "expires_at": int(item["expires_at"]["N"]),
        }

    def delete(self, token_hash: str) -> bool:
        reply = client("dynamodb").delete_item(
            TableName=self.table_name, Key={"token_hash": {"S": token_hash}}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in reply

"""The ``dynamodb`` identity backend: bearer tokens in a table, with expiry.

Only the SHA-256 of a token is stored: a leaked table (or backup) holds no usable token. Tokens
are issued and revoked from a workstation with ``python -m image_import_dev.tokens`` (the dev-only
distribution); the table itself is ``adapters.tokens.DynamoTokenStore``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from image_import.models.caller import Caller, NotAuthenticated


class TokenStore(Protocol):
    def put(self, token_hash: str, record: dict[str, Any]) -> None: ...
    def get(self, token_hash: str) -> dict[str, Any] | None: ...
    def delete(self, token_hash: str) -> bool: ...


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(
    store: TokenStore, user_id: str, project_id: str, roles: list[str], ttl: int, now: float | None = None
) -> str:
    """A new random token for this user; only its hash is stored. Returned once, never again."""
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):  # a CLI would read it as an option (`revoke -x...`)
        token = secrets.token_urlsafe(32)
    expires_at = int((time.time() if now is None else now) + ttl)
    record = {
        "user_id": user_id,
        "project_id": project_id,
        "roles": [r.lower() for r in roles],
        "expires_at": expires_at,
    }
    store.put(hash_token(token), record)
    return token


def revoke(store: TokenStore, token: str) -> bool:
    return store.delete(hash_token(token))


class TokenTable:
    """Validator over the tokens table."""

    def __init__(self, store: TokenStore, clock: Callable[[], float] = time.time):
        self.store, self.clock = store, clock

    def validate(self, token: str) -> Caller:
        record = self.store.get(hash_token(token))
        # DynamoDB's TTL deletes expired items late (up to days): expiry is checked here
        if record is None or record["expires_at"] <= self.clock():
            raise NotAuthenticated()
        return Caller(record["user_id"], record["project_id"], tuple(record["roles"]))

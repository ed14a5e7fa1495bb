"""The ``dynamodb`` identity backend: bearer tokens in a DynamoDB table, and a CLI to manage them.

Only the SHA-256 of a token is stored: a leaked table (or backup) holds no usable token.

    python -m image_import.identity.token_table issue --user demo --project demo --roles member,reader --ttl 12h
    python -m image_import.identity.token_table revoke <token>

The table is ``--table`` or ``$TOKENS_TABLE`` (the stack output ``TokensTableName``).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from image_import.identity import NotAuthenticated
from image_import.settings import DevIdentity

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenStore(Protocol):
    def put(self, token_hash: str, record: dict[str, Any]) -> None: ...
    def get(self, token_hash: str) -> dict[str, Any] | None: ...
    def delete(self, token_hash: str) -> bool: ...


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_ttl(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``12h``, ``7d`` -> seconds."""
    match = _TTL.match(text.strip().lower())
    if not match or int(match[1]) <= 0:
        raise ValueError(f"not a positive duration like 90s, 15m, 12h or 7d: {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def issue(
    store: TokenStore, user_id: str, project_id: str, roles: list[str], ttl: int, now: float | None = None
) -> str:
    """A new random token for this user; only its hash is stored. Returned once, never again."""
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
    """Validator over the tokens table (``TOKENS_TABLE``)."""

    def __init__(self, store: TokenStore | None = None, clock: Callable[[], float] = time.time):
        if store is None:
            from image_import.adapters.tokens import DynamoTokenStore
            from image_import.settings import ConfigError, get_resources

            table = get_resources().tokens_table
            if not table:
                raise ConfigError("[identity] backend = dynamodb needs the TOKENS_TABLE environment variable")
            store = DynamoTokenStore(table)
        self.store, self.clock = store, clock

    def validate(self, token: str) -> DevIdentity:
        record = self.store.get(hash_token(token))
        # DynamoDB's TTL deletes expired items late (up to days): expiry is checked here
        if record is None or record["expires_at"] <= self.clock():
            raise NotAuthenticated()
        return DevIdentity(record["user_id"], record["project_id"], tuple(record["roles"]))


def main(argv: list[str] | None = None, store: TokenStore | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(
        prog="python -m image_import.identity.token_table", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--table", default=os.environ.get("TOKENS_TABLE"), help="default: $TOKENS_TABLE")
    commands = parser.add_subparsers(dest="command", required=True)
    issuing = commands.add_parser("issue", help="issue a token and print it (once)")
    issuing.add_argument("--user", required=True, help="user id")
    issuing.add_argument("--project", required=True, help="project id (owner of the images the user creates)")
    issuing.add_argument("--roles", required=True, help="comma-separated, e.g. member,reader")
    issuing.add_argument("--ttl", default="12h", help="lifetime: 90s, 15m, 12h, 7d (default 12h)")
    revoking = commands.add_parser("revoke", help="revoke a token")
    revoking.add_argument("token")
    args = parser.parse_args(argv)

    if store is None:
        if not args.table:
            parser.error("no table: pass --table or set TOKENS_TABLE (the stack output TokensTableName)")
        from image_import.adapters.tokens import DynamoTokenStore

        store = DynamoTokenStore(args.table)
    if args.command == "issue":
        try:
            ttl = parse_ttl(args.ttl)
        except ValueError as exc:
            parser.error(str(exc))
        roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        print(issue(store, args.user, args.project, roles, ttl))
        return 0
    if revoke(store, args.token):
        print("revoked")
        return 0
    print("no such token", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

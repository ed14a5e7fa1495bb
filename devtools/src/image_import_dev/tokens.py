"""Issue and revoke bearer tokens of the ``dynamodb`` identity backend (from a workstation).

    python -m image_import_dev.tokens issue --user demo --project demo --roles member,reader --ttl 12h
    python -m image_import_dev.tokens revoke <token>

The table is ``--table`` or ``$TOKENS_TABLE`` (the stack output ``TokensTableName``). Only the
SHA-256 of a token is stored (``image_import.identity.token_table``); ``issue`` prints it once.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from image_import.identity.token_table import TokenStore, issue, revoke

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``12h``, ``7d`` -> seconds."""
    match = _TTL.match(text.strip().lower())
    if not match or int(match[1]) <= 0:
        raise ValueError(f"not a positive duration like 90s, 15m, 12h or 7d: {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def main(argv: list[str] | None = None, store: TokenStore | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_import_dev.tokens", description=__doc__.split("\n")[0])
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

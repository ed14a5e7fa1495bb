"""Load metadata-definition namespace files in Glance's format into the service's metadefs table.

    image-import-metadefs load DIR_OR_FILE [--overwrite]     (or: python -m image_import_dev.metadefs ...)

The files are what ``glance-manage db_load_metadefs`` reads (glance/etc/metadefs/*.json in Glance's
repository, or your own). The table is ``--table`` or ``$METADEFS_TABLE`` (the stack output
``MetadefsTableName``, with your AWS credentials); without either, the running local stack's
(``make run``: its ``.local-stack.json``, or ``$IMAGE_IMPORT_LOCAL_STATE``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from image_import_dev.sweep import local_stack_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="image-import-metadefs", description=__doc__.split("\n")[0])
    parser.add_argument("--table", default=os.environ.get("METADEFS_TABLE"), help="default: $METADEFS_TABLE")
    parser.add_argument("--stack-file", type=Path, default=local_stack_file(), help="the local stack's state file")
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load", help="load every *.json namespace file of a directory (or one file)")
    loading.add_argument("path", type=Path)
    loading.add_argument("--overwrite", action="store_true", help="replace namespaces that exist (default: skip them)")
    args = parser.parse_args(argv)

    table = args.table
    if not table:
        if not args.stack_file.is_file():
            print(
                f"error: no table: pass --table, set METADEFS_TABLE, or start the local stack ({args.stack_file})",
                file=sys.stderr,
            )
            return 2
        state = json.loads(args.stack_file.read_text())
        table = state.get("METADEFS_TABLE")
        if not table:
            print(f"error: {args.stack_file} names no METADEFS_TABLE (restart `make run`)", file=sys.stderr)
            return 2
        os.environ.update({k: v for k, v in state.items() if k.startswith("AWS_")})
    if not args.path.exists():
        print(f"error: {args.path} does not exist", file=sys.stderr)
        return 2

    from image_import.adapters.metadefs import DynamoMetadefStore
    from image_import.metadefs.loader import load

    report = load(args.path, DynamoMetadefStore(table), overwrite=args.overwrite)
    for name in report.loaded:
        print(f"loaded {name}")
    for name in report.skipped:
        print(f"skipped {name}: it exists (--overwrite replaces it)")
    for failure in report.failed:
        print(f"failed {failure}", file=sys.stderr)
    print(f"{len(report.loaded)} loaded, {len(report.skipped)} skipped, {len(report.failed)} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

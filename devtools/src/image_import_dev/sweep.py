"""``python -m image_import_dev.sweep``: one sweep by hand (the deployed stack runs it on a schedule).

Against the local stack (``make run``), it reads the endpoint and resource names the stack wrote to
``.local-stack.json`` (or $IMAGE_IMPORT_LOCAL_STATE); against AWS, set IMAGES_TABLE, TASKS_TABLE, STAGING_BUCKET, STORE_BUCKET,
STATE_MACHINE_ARN and IMAGE_IMPORT_CONFIG_DIR (and your AWS credentials) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path


def local_stack_file() -> Path:
    """Where `python -m image_import_dev.local` records its endpoint and resource names."""
    return Path(os.environ.get("IMAGE_IMPORT_LOCAL_STATE") or ".local-stack.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_import_dev.sweep", description=__doc__)
    parser.add_argument(
        "--stack-file",
        type=Path,
        default=local_stack_file(),
        help="default: $IMAGE_IMPORT_LOCAL_STATE or ./.local-stack.json",
    )
    parser.add_argument("--grace-minutes", type=float, help="leave anything younger alone (default 15)")
    parser.add_argument("--upload-age-hours", type=float, help="abort multipart uploads older than this (default 24)")
    args = parser.parse_args(argv)

    if "IMAGES_TABLE" not in os.environ:
        if not args.stack_file.is_file():
            print(
                f"error: IMAGES_TABLE is unset and there is no {args.stack_file} (is `make run` up?)", file=sys.stderr
            )
            return 2
        os.environ.update(json.loads(args.stack_file.read_text()))

    from image_import.adapters.ports import default_ports
    from image_import.settings import ConfigError, get_settings
    from image_import.workflow.sweeper import SweepLimits, sweep

    limits = SweepLimits.from_environment()
    if args.grace_minutes is not None:
        limits = SweepLimits(grace=timedelta(minutes=args.grace_minutes), upload_age=limits.upload_age)
    if args.upload_age_hours is not None:
        limits = SweepLimits(grace=limits.grace, upload_age=timedelta(hours=args.upload_age_hours))
    try:
        report = sweep(default_ports(), get_settings(), limits=limits)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for what, count in report.as_dict().items():
        print(f"{what.replace('_', ' ')}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

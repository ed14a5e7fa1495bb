"""``python -m image_import_dev.local``: the whole service on http://127.0.0.1:9292, moto playing AWS."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

from image_import_dev.local import LocalStackError
from image_import_dev.local.process import READY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_import_dev.local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 9292), help="default: $PORT or 9292")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="default: ./template.yaml")
    parser.add_argument(
        "--config-dir", type=Path, help="default: $IMAGE_IMPORT_CONFIG_DIR, else the config folder next to the template"
    )
    parser.add_argument(
        "--no-render",
        action="store_true",
        help="run the template as written, without wiring the configured plugin chain into it",
    )
    parser.add_argument("--access-log", action="store_true", help="log every HTTP request")
    parser.add_argument(
        "--large-requests",
        action="store_true",
        default=None,
        help="serve requests over Lambda's 6 MB (PUT /stage of more than ~4.5 MB), with a warning, instead of "
        "refusing them with 413 as AWS does (default: $IMAGE_IMPORT_LOCAL_LARGE_REQUESTS, else refused)",
    )
    parser.add_argument(
        "--events-file",
        type=Path,
        help="where the lifecycle events go, one JSON per line (default: $IMAGE_IMPORT_EVENTS_FILE, else "
        ".local-events.jsonl beside the stack file, ./.local-stack.json)",
    )
    args = parser.parse_args(argv)

    from image_import.settings import ConfigError

    try:
        return _serve(args)
    except (ConfigError, LocalStackError, OSError) as exc:  # a bad operator file, template or port: no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _create_store_buckets(config_dir: Path) -> None:
    """Multi-store: the buckets of the stores beyond the default one are the operator's, not the template's;
    locally moto stands in for them, so they are created here, each in its region."""
    import boto3

    from image_import.settings import ConfigError, load_settings

    try:
        stores = load_settings(config_dir).stores
    except ConfigError:
        return
    for store in stores:
        if store.bucket is None:
            continue
        region = store.region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        boto3.client("s3", region_name=region).create_bucket(Bucket=store.bucket, **extra)
        print(f"store {store.id}: bucket {store.bucket} ({region})")


def _serve(args: argparse.Namespace) -> int:
    template = args.template.resolve()
    if not template.is_file():
        raise LocalStackError(f"no SAM template at {template} (use --template)")
    config_dir = (
        args.config_dir or Path(os.environ.get("IMAGE_IMPORT_CONFIG_DIR") or template.parent / "config")
    ).resolve()
    sam_hook = None
    if not args.no_render:
        from image_import_dev.render import local_sam_hook

        sam_hook = local_sam_hook(config_dir)  # reads and checks the configuration before anything starts

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from image_import_dev.local.server import serve_api, start_moto_server
    from image_import_dev.local.stack import LocalStack

    moto = start_moto_server()  # first: every boto3 client made from here on talks to it
    stack = None
    try:
        overrides = {"IMAGE_IMPORT_CONFIG_DIR": str(config_dir)}
        events_file = args.events_file or _default_events_file()
        stack = LocalStack(
            template,
            name="local",
            sam_hook=sam_hook,
            env_overrides=overrides,
            events_file=events_file,
            large_requests=args.large_requests,
        ).up()
        _create_store_buckets(config_dir)
        server = serve_api(stack, args.host, args.port, access_log=args.access_log)
    except BaseException:
        if stack is not None:
            stack.down()
        moto.stop()
        raise
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as cleanly on `kill` as on Ctrl-C
    state_file = _write_state_file(stack)  # for `python -m image_import_dev.sweep` (make sweep)
    print(f"configuration: {config_dir}")
    print(f"{READY}{server.url}")
    from image_import.settings import ConfigError, load_settings

    try:
        backend = load_settings(config_dir).identity_backend
    except ConfigError:  # a template of its own (--no-render) may come without our configuration
        backend = "token_file"
    token = "member-token" if backend == "token_file" else "<token>"
    print(f"  try: {_glance()} --os-image-url {server.url} --os-auth-token {token} --os-image-api-version 2 image-list")
    if backend == "token_file":
        print("  (tokens admin-token and member-token are in local-tokens.yaml; Ctrl-C stops)", flush=True)
    else:
        print(f"  (identity backend: {backend}, from glance-api.conf [identity]; Ctrl-C stops)", flush=True)
    # presigned URLs from POST /v2/images/<id>/upload-urls point here: curl -T disk.img '<url>' works
    print(f"S3 (moto) for direct uploads at {moto.endpoint_url}", flush=True)
    if stack.event_log is not None:
        print(f"lifecycle events (one JSON per line): tail -f {stack.event_log.path}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        state_file.unlink(missing_ok=True)
        server.stop()
        stack.down()
        moto.stop()
    return 0


def _default_events_file() -> Path:
    from image_import_dev.sweep import local_stack_file

    return Path(os.environ.get("IMAGE_IMPORT_EVENTS_FILE") or local_stack_file().with_name(".local-events.jsonl"))


def _glance() -> str:
    """glance as a newcomer can paste it: the venv's by its path (the venv's bin is not on their PATH),
    relative to the working directory when inside it (``.venv/bin/glance`` from the repository)."""
    program = Path(sys.executable).parent / "glance"  # not resolved: the venv's python is a symlink
    if not program.is_file():
        return shutil.which("glance") or "glance"
    try:
        relative = str(program.absolute().relative_to(Path.cwd()))
        return relative if "/" in relative else f"./{relative}"  # a bare name would be looked up on PATH
    except ValueError:
        return str(program.absolute())


STATE_KEYS = ("IMAGES_TABLE", "TASKS_TABLE", "STAGING_BUCKET", "STORE_BUCKET", "STATE_MACHINE_ARN", "EVENT_BUS_NAME")
STATE_KEYS += ("IMAGE_IMPORT_CONFIG_DIR", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
STATE_KEYS += ("AWS_DEFAULT_REGION",)


def _write_state_file(stack) -> Path:
    """Where this stack's AWS lives, so tools in other processes (the sweeper) can reach it."""
    import json

    from image_import_dev.sweep import local_stack_file

    values = {k: os.environ[k] for k in STATE_KEYS if k in os.environ}
    if "MetadefsTableName" in stack.outputs:  # for `image-import-metadefs load` (a function's own variable)
        values["METADEFS_TABLE"] = stack.outputs["MetadefsTableName"]
    path = local_stack_file()
    path.write_text(json.dumps(values, indent=1) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())

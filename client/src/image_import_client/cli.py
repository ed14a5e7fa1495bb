"""The ``glance-image-upload`` command: options as ``glance image-create`` and the glance CLI's auth take them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from image_import_client.api import ApiError, AuthError, Credentials, ImageApi, token_source
from image_import_client.parts import OfferError
from image_import_client.state import StateStore
from image_import_client.transfer import PartRefused
from image_import_client.upload import DEFAULT_PARALLEL, UploadError, upload_image

HIDDEN = ("self", "file", "schema", "access")  # links that glance image-show does not print either
AUTH_OPTIONS = (
    "image_url", "auth_token", "auth_url", "username", "user_id", "password", "project_name", "project_id",
    "user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id", "region_name", "interface",
    "cacert",
)  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glance-image-upload",
        description="Upload an image file straight to S3 through the service's presigned multipart URLs "
        "(the direct-upload extension: no API Gateway size limit), parts in parallel, resumable: run the same "
        "command again after an interruption and only the missing parts are sent. Then the glance-direct "
        "import, and the image as glance image-show prints it.",
    )
    p.add_argument("--file", required=True, help="the image data to upload")
    target = p.add_argument_group("the image (created unless --image-id is given)")
    target.add_argument("--image-id", help="upload into this existing queued image instead of creating one")
    target.add_argument("--name")
    target.add_argument("--disk-format", help="e.g. raw, qcow2, vmdk, iso")
    target.add_argument("--container-format", help="e.g. bare, ovf")
    target.add_argument("--visibility", choices=("public", "private", "shared", "community"))
    target.add_argument("--min-disk", type=int, metavar="GB")
    target.add_argument("--min-ram", type=int, metavar="MB")
    target.add_argument("--protected", choices=("True", "False"))
    target.add_argument("--tag", action="append", default=[], dest="tags", help="a tag (repeat for more)")
    target.add_argument(
        "--property", action="append", default=[], metavar="KEY=VALUE", help="an extra property (repeat for more)"
    )
    run = p.add_argument_group("the upload")
    run.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, help="parts in flight at once (default 4)")
    run.add_argument("--no-import", action="store_true", help="only stage the data (image ends 'uploading')")
    run.add_argument("--no-wait", action="store_true", help="return once the upload is completed")
    run.add_argument("--timeout", type=float, default=0, help="seconds to wait for the import (default 0: no limit)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    run.add_argument("--json", action="store_true", help="print the image as JSON instead of a table")
    run.add_argument("--state-dir", help="where resume state is kept (default ~/.cache/glance-image-upload)")
    auth = p.add_argument_group("authentication (as the glance CLI: options or OS_* variables)")
    for name in AUTH_OPTIONS:
        auth.add_argument(f"--os-{name.replace('_', '-')}", dest=name, metavar=f"OS_{name.upper()}")
    auth.add_argument("--insecure", action="store_true", default=None, help="do not verify Keystone's TLS certificate")
    return p


def parse_properties(pairs: Sequence[str]) -> dict[str, str]:
    properties = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise argparse.ArgumentTypeError(f"--property takes KEY=VALUE, got {pair!r}")
        properties[key] = value
    return properties


def image_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The body of POST /v2/images, as glance image-create builds it from the same options."""
    fields: dict[str, Any] = parse_properties(args.property)
    for name in ("name", "disk_format", "container_format", "visibility", "min_disk", "min_ram"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.protected is not None:
        fields["protected"] = args.protected == "True"
    if args.tags:
        fields["tags"] = args.tags
    return fields


def credentials(args: argparse.Namespace, environ: Mapping[str, str]) -> Credentials:
    """Options win over OS_* variables."""
    from_environment = Credentials.from_environment(environ)
    given = {name: getattr(args, name) for name in AUTH_OPTIONS if getattr(args, name)}
    if args.insecure:
        given["insecure"] = True
    return Credentials(**(vars(from_environment) | given))


def image_table(image: Mapping[str, Any]) -> str:
    """The image as glance image-show prints it: a Property | Value table, sorted by property."""
    rows = [(key, show(value)) for key, value in sorted(image.items()) if key not in HIDDEN]
    key_width = max([len("Property")] + [len(k) for k, _ in rows])
    value_width = max([len("Value")] + [len(v) for _, v in rows])
    rule = f"+{'-' * (key_width + 2)}+{'-' * (value_width + 2)}+"
    lines = [rule, f"| {'Property'.ljust(key_width)} | {'Value'.ljust(value_width)} |", rule]
    lines += [f"| {k.ljust(key_width)} | {v.ljust(value_width)} |" for k, v in rows]
    return "\n".join([*lines, rule])


def show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        fields = image_fields(args)
    except argparse.ArgumentTypeError as error:
        p.error(str(error))
    if args.image_id and fields:
        p.error("--image-id takes an existing image: set its properties with glance image-update, not here")
    if args.parallel < 1:
        p.error("--parallel must be at least 1")
    if not os.path.isfile(args.file):
        p.error(f"--file {args.file}: no such file")
    try:
        endpoint, token = token_source(credentials(args, environ))
        result = upload_image(
            args.file,
            ImageApi(endpoint, token),
            image_id=args.image_id,
            image_fields=fields,
            parallel=args.parallel,
            start_import=not args.no_import,
            wait=not args.no_wait,
            timeout=args.timeout or None,
            state=StateStore(args.state_dir) if args.state_dir else None,
            progress=not args.no_progress,
        )
    except (AuthError, ApiError, UploadError, OfferError, PartRefused) as error:
        print(f"glance-image-upload: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("glance-image-upload: interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    print(
        f"parts: {result.parts_sent} sent, {result.parts_resumed} already stored, {result.parts_total} in all",
        file=sys.stderr,
    )
    shown = {k: v for k, v in result.image.items() if k not in HIDDEN}
    print(json.dumps(shown, indent=2, sort_keys=True) if args.json else image_table(result.image))
    return 0

"""Load test (``make load``): N images imported at once over HTTP against ``python -m image_import_dev.local``.

Starts the local stack as a subprocess on a free port, then on N threads each: creates an image,
stages random data, imports it (glance-direct) and polls until it leaves 'importing'. Every image
must end 'active' with the MD5 and SHA-512 of its data. Prints imports per second and total time;
exits 1 if any import did not end right. Not part of ``make test`` (it takes a while and measures).

    .venv/bin/python benchmarks/load.py                    # 50 images of 1 MiB
    .venv/bin/python benchmarks/load.py --images 20 --size-kib 4096
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from image_import_dev.local.process import LocalStackProcess, start_local_stack

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "member-token"


@dataclass
class Outcome:
    image_id: str | None
    ok: bool
    detail: str
    accepted_after: float = 0.0  # create + stage + import answered (s from start)
    finished_after: float = 0.0  # seen active (s from start)


def call(url: str, method: str, path: str, body=None, content_type: str | None = None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("X-Auth-Token", TOKEN)
    request.add_header("Accept", "application/json")
    if isinstance(body, dict):
        request.add_header("Content-Type", "application/json")
    elif content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def one_import(url: str, size: int, started: float, timeout: float) -> Outcome:
    data = os.urandom(size)
    status, image = call(url, "POST", "/v2/images", {"name": "load", "disk_format": "raw", "container_format": "bare"})
    if status != 201:
        return Outcome(None, False, f"create: {status} {image}")
    image_id = image["id"]
    status, reply = call(url, "PUT", f"/v2/images/{image_id}/stage", data, "application/octet-stream")
    if status != 204:
        return Outcome(image_id, False, f"stage: {status} {reply}")
    status, reply = call(url, "POST", f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}})
    if status != 202:
        return Outcome(image_id, False, f"import: {status} {reply}")
    accepted = time.monotonic() - started
    deadline = time.monotonic() + timeout
    while True:
        status, shown = call(url, "GET", f"/v2/images/{image_id}")
        if status == 200 and shown["status"] not in ("importing",):
            break
        if time.monotonic() > deadline:
            return Outcome(image_id, False, f"still {shown['status'] if status == 200 else status} after {timeout} s")
        time.sleep(0.2)
    finished = time.monotonic() - started
    if shown["status"] != "active":
        return Outcome(image_id, False, f"ended {shown['status']}")
    if shown["checksum"] != hashlib.md5(data).hexdigest():
        return Outcome(image_id, False, "wrong MD5")
    if shown["os_hash_algo"] != "sha512" or shown["os_hash_value"] != hashlib.sha512(data).hexdigest():
        return Outcome(image_id, False, "wrong SHA-512")
    if shown["size"] != size:
        return Outcome(image_id, False, f"wrong size {shown['size']}")
    return Outcome(image_id, True, "active", accepted, finished)


def start_stack(workdir: Path) -> LocalStackProcess:
    env = {"IMAGE_IMPORT_LOCAL_STATE": str(workdir / "stack.json")}
    env["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # a warning per request would time the logging, not the service
    return start_local_stack(log=workdir / "local-stack.log", env=env, cwd=ROOT, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--size-kib", type=int, default=1024, help="data per image (default 1024 KiB)")
    parser.add_argument("--timeout", type=float, default=300, help="per-image wait for 'active' (s)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="image-import-load-") as tmp:
        stack = start_stack(Path(tmp))
        url = stack.url
        try:
            print(f"local stack at {url}; {args.images} concurrent imports of {args.size_kib} KiB each", flush=True)
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.images) as pool:
                futures = [
                    pool.submit(one_import, url, args.size_kib * 1024, started, args.timeout)
                    for _ in range(args.images)
                ]
                outcomes = [f.result() for f in futures]
            total = time.monotonic() - started
        finally:
            stack.stop(timeout=15)

    good = [o for o in outcomes if o.ok]
    for bad in (o for o in outcomes if not o.ok):
        print(f"FAILED {bad.image_id}: {bad.detail}")
    print(f"active with the right MD5/SHA-512: {len(good)}/{len(outcomes)}")
    print(f"total time: {total:.1f} s")
    print(f"imports per second: {len(good) / total:.2f}")
    if good:
        accepted = [o.accepted_after for o in good]
        finished = [o.finished_after for o in good]
        print(
            f"accepted (create+stage+import answered) after: median {statistics.median(accepted):.1f} s, "
            f"last {max(accepted):.1f} s"
        )
        print(f"active after: median {statistics.median(finished):.1f} s, last {max(finished):.1f} s")
    return 0 if len(good) == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""What lifecycle events cost an API call: POST /v2/images, PATCH and PUT /stage, events on vs off.

    .venv/bin/python benchmarks/event_latency.py                 # 40 requests of each kind per stack
    .venv/bin/python benchmarks/event_latency.py --requests 100
    git archive main | tar -x -C /tmp/base && .venv/bin/python benchmarks/event_latency.py --baseline /tmp/base

Starts two local stacks (``python -m image_import_dev.local``, as ``make run``) on free ports: one with
the shipped configuration (events published to moto's EventBridge and written to the events file),
one with ``[oslo_messaging_notifications] driver = noop``. The requests alternate between the two
stacks, so the box's noise falls on both alike: a create (one event, ``image.create``), a PATCH of
that image (one, ``image.update``), a PUT /stage of 1 KiB to it (two ``image.update``), and a PUT /file
of 1 KiB to a second image (five: ``image.update``, ``.prepare``, ``.upload``, ``.activate``, ``.update``). Prints the
median and 90th percentile of each (client-side, over HTTP). ``--baseline DIR`` adds the same two
stacks run from another checkout (its sources, template and functions), in the same rounds: before
and after a change, measured alike. Figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from image_import_dev.local.process import LocalStackProcess, start_local_stack

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "member-token"
WARM_UP = 5  # requests per stack before timing: cold starts are not what this measures
IMAGE = {"name": "bench", "disk_format": "raw", "container_format": "bare"}
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
DATA = b"\0" * 1024
KINDS = ("POST /v2/images", "PATCH /v2/images/{id}", "PUT /v2/images/{id}/stage", "PUT /v2/images/{id}/file")


def timed(url: str, method: str, path: str, body, content_type: str = "application/json") -> tuple[float, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    for name, value in {"X-Auth-Token": TOKEN, "Accept": "application/json", "Content-Type": content_type}.items():
        request.add_header(name, value)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
    return time.perf_counter() - started, json.loads(text) if text else {}


def start(workdir: Path, events: bool, checkout: Path) -> LocalStackProcess:
    config = workdir / "config"
    shutil.copytree(checkout / "config", config)
    if not events:
        with (config / "glance-api.conf").open("a") as conf:
            conf.write("\n[oslo_messaging_notifications]\ndriver = noop\n")
    env = {"IMAGE_IMPORT_LOCAL_STATE": str(workdir / "stack.json"), "POWERTOOLS_LOG_LEVEL": "ERROR"}
    if checkout != ROOT:  # its own package and dev tooling first on the child's path
        sources = [checkout / "layers" / "image_import" / "src", checkout / "devtools" / "src"]
        env["PYTHONPATH"] = os.pathsep.join([*map(str, sources), os.environ.get("PYTHONPATH", "")])
    return start_local_stack(config, log=workdir / "local-stack.log", env=env, cwd=checkout, timeout=180)


def measure(stacks: dict[str, LocalStackProcess], requests: int) -> dict[str, dict[str, list[float]]]:
    seconds: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in KINDS} for name in stacks}
    for number in range(WARM_UP + requests):
        for name, stack in stacks.items():
            create, image = timed(stack.url, "POST", "/v2/images", IMAGE)
            patch = [{"op": "add", "path": f"/p{number}", "value": "v"}]
            edit, _ = timed(stack.url, "PATCH", f"/v2/images/{image['id']}", patch, PATCH_TYPE)
            stage, _ = timed(stack.url, "PUT", f"/v2/images/{image['id']}/stage", DATA, "application/octet-stream")
            _, second = timed(stack.url, "POST", "/v2/images", IMAGE)
            upload, _ = timed(stack.url, "PUT", f"/v2/images/{second['id']}/file", DATA, "application/octet-stream")
            if number >= WARM_UP:
                for kind, value in zip(KINDS, (create, edit, stage, upload), strict=True):
                    seconds[name][kind].append(value)
    return seconds


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="timed requests of each kind per stack")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure alike (e.g. main's tree)")
    args = parser.parse_args(argv)
    checkouts = {"": ROOT, **({"baseline, ": args.baseline.resolve()} if args.baseline else {})}
    with tempfile.TemporaryDirectory(prefix="image-import-events-") as tmp:
        stacks: dict[str, LocalStackProcess] = {}
        try:
            for label, checkout in checkouts.items():
                for name, events in ((f"{label}events on", True), (f"{label}events off", False)):
                    (Path(tmp) / name).mkdir()
                    stacks[name] = start(Path(tmp) / name, events, checkout)
            seconds = measure(stacks, args.requests)
        finally:
            for stack in stacks.values():
                stack.stop(timeout=15)
    print(f"{args.requests} requests of each kind per stack, alternating, after {WARM_UP} warm-up rounds")
    for kind in KINDS:
        for name, found in seconds.items():
            values = found[kind]
            print(
                f"  {kind:26}  {name:20}  "
                f"median {statistics.median(values) * 1000:6.1f} ms   p90 {p90(values) * 1000:6.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

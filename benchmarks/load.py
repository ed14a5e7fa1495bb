"""Load test (``make load``): N imports at once over HTTP, from several projects under quotas, against
``python -m image_import_dev.local``.

Starts the local stack as a subprocess on a free port, with one member token per project and
``[image_limits] image_count_total = --limit`` (every project may hold that many images). On N threads,
spread over the projects, each: creates an image, stages random data, imports it (glance-direct) and
polls until it leaves 'importing'. Checks, and exits 1 unless all hold:

* exact admission: exactly ``--limit`` creates per project succeed (201), every other one is Glance's 413
  naming image_count_total, and each project's ``GET /v2/info/usage`` shows ``--limit`` images;
* no answer is a 5xx;
* every admitted image ends 'active' with the MD5 and SHA-512 of its data;
* the events of every admitted image are in order in the local event file: image.create first, its
  status never going back (queued, uploading, importing, active), image.activate last of the import's,
  and no event of an image that was refused.

Prints the figures (time, imports per second, admission). Not part of ``make test`` at its full size
(tests/e2e/test_load.py runs it small).

    .venv/bin/python benchmarks/load.py                    # 50 imports of 1 MiB, 5 projects, limit 2
    .venv/bin/python benchmarks/load.py --images 20 --size-kib 4096 --projects 2 --limit 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from image_import_dev.local.process import LocalStackProcess, start_local_stack

ROOT = Path(__file__).resolve().parents[1]
STATUS_ORDER = {"queued": 0, "saving": 1, "uploading": 1, "importing": 2, "active": 3}
REFUSED = "image_count_total is over limit"


@dataclass
class Outcome:
    project: str
    image_id: str | None
    ok: bool
    detail: str
    admitted: bool = False  # the create was 201
    accepted_after: float = 0.0  # create + stage + import answered (s from start)
    finished_after: float = 0.0  # seen active (s from start)
    statuses: list[int] = field(default_factory=list)  # every HTTP status it was answered


def token_of(project: str) -> str:
    return f"{project}-token"


def call(url: str, token: str, method: str, path: str, body=None, content_type: str | None = None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("X-Auth-Token", token)
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


def one_import(url: str, project: str, size: int, started: float, timeout: float) -> Outcome:
    token, outcome = token_of(project), Outcome(project, None, False, "")

    def answered(method, path, body=None, content_type=None):
        status, reply = call(url, token, method, path, body, content_type)
        outcome.statuses.append(status)
        return status, reply

    data = os.urandom(size)
    status, image = answered("POST", "/v2/images", {"name": "load", "disk_format": "raw", "container_format": "bare"})
    if status == 413 and REFUSED in str(image):
        outcome.ok, outcome.detail = True, "refused: over image_count_total"
        return outcome
    if status != 201:
        outcome.detail = f"create: {status} {image}"
        return outcome
    outcome.admitted, outcome.image_id = True, image["id"]
    image_id = image["id"]
    status, reply = answered("PUT", f"/v2/images/{image_id}/stage", data, "application/octet-stream")
    if status != 204:
        outcome.detail = f"stage: {status} {reply}"
        return outcome
    status, reply = answered("POST", f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}})
    if status != 202:
        outcome.detail = f"import: {status} {reply}"
        return outcome
    outcome.accepted_after = time.monotonic() - started
    deadline = time.monotonic() + timeout
    while True:
        status, shown = answered("GET", f"/v2/images/{image_id}")
        if status == 200 and shown["status"] not in ("importing",):
            break
        if time.monotonic() > deadline:
            outcome.detail = f"still {shown['status'] if status == 200 else status} after {timeout} s"
            return outcome
        time.sleep(0.2)
    outcome.finished_after = time.monotonic() - started
    if shown["status"] != "active":
        outcome.detail = f"ended {shown['status']}"
    elif shown["checksum"] != hashlib.md5(data).hexdigest():
        outcome.detail = "wrong MD5"
    elif shown["os_hash_algo"] != "sha512" or shown["os_hash_value"] != hashlib.sha512(data).hexdigest():
        outcome.detail = "wrong SHA-512"
    elif shown["size"] != size:
        outcome.detail = f"wrong size {shown['size']}"
    else:
        outcome.ok, outcome.detail = True, "active"
    return outcome


def write_config(config_dir: Path, projects: list[str], limit: int) -> None:
    """The shipped configuration, one member token per project, and every project's image_count_total."""
    shutil.copytree(ROOT / "config", config_dir)
    with (config_dir / "local-tokens.yaml").open("a") as tokens:
        for project in projects:
            tokens.write(f"{token_of(project)}:\n  user_id: {project}-user\n  project_id: {project}\n")
            tokens.write("  roles: [member, reader]\n")
    with (config_dir / "glance-api.conf").open("a") as conf:
        conf.write(f"\n[image_limits]\nimage_count_total = {limit}\n")


def start_stack(workdir: Path, config_dir: Path, events: Path) -> LocalStackProcess:
    env = {"IMAGE_IMPORT_LOCAL_STATE": str(workdir / "stack.json"), "IMAGE_IMPORT_EVENTS_FILE": str(events)}
    env["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # a warning per request would time the logging, not the service
    return start_local_stack(config_dir, log=workdir / "local-stack.log", env=env, cwd=ROOT, timeout=120)


def events_out_of_order(events_file: Path, admitted: set[str], wait: float = 20) -> list[str]:
    """What is wrong with the images' lifecycle events in the file (empty: all in order)."""
    problems: list[str] = []
    deadline = time.monotonic() + wait
    while True:  # the file is written by a thread from a queue: the last events may still be on their way
        by_image: dict[str, list[dict]] = {}
        for line in events_file.read_text().splitlines() if events_file.exists() else []:
            detail = json.loads(line).get("detail", {})
            payload = detail.get("payload", {})
            if detail.get("event_type", "").startswith("image.") and "id" in payload:
                by_image.setdefault(payload["id"], []).append(detail)
        if all(any(e["event_type"] == "image.activate" for e in by_image.get(i, [])) for i in admitted):
            break
        if time.monotonic() > deadline:
            problems.append("some image.activate events never arrived")
            break
        time.sleep(0.5)
    for image_id in sorted(admitted):
        events = by_image.get(image_id, [])
        types = [e["event_type"] for e in events]
        if not types or types[0] != "image.create":
            problems.append(f"{image_id}: first event {types[:1]}, not image.create")
        ranks = [STATUS_ORDER.get(e["payload"].get("status"), 0) for e in events]
        if ranks != sorted(ranks):
            problems.append(f"{image_id}: statuses went back: {[e['payload'].get('status') for e in events]}")
        stamps = [e["timestamp"] for e in events]
        if stamps != sorted(stamps):
            problems.append(f"{image_id}: timestamps out of order")
    strangers = set(by_image) - admitted
    if strangers:
        problems.append(f"events of {len(strangers)} images nobody was answered 201 for")
    return problems


def usage_counts(url: str, projects: list[str]) -> dict[str, object]:
    counts = {}
    for project in projects:
        status, reply = call(url, token_of(project), "GET", "/v2/info/usage")
        counts[project] = reply["usage"]["image_count_total"]["usage"] if status == 200 else f"{status} {reply}"
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50, help="concurrent imports in all (default 50)")
    parser.add_argument("--projects", type=int, default=5, help="projects they are spread over (default 5)")
    parser.add_argument("--limit", type=int, default=2, help="image_count_total of every project (default 2)")
    parser.add_argument("--size-kib", type=int, default=1024, help="data per image (default 1024 KiB)")
    parser.add_argument("--timeout", type=float, default=300, help="per-image wait for 'active' (s)")
    args = parser.parse_args(argv)
    projects = [f"load{n}" for n in range(1, args.projects + 1)]

    with tempfile.TemporaryDirectory(prefix="image-import-load-") as tmp:
        workdir = Path(tmp)
        write_config(workdir / "config", projects, args.limit)
        events = workdir / "events.jsonl"
        stack = start_stack(workdir, workdir / "config", events)
        url = stack.url
        try:
            print(
                f"local stack at {url}; {args.images} concurrent imports of {args.size_kib} KiB from "
                f"{args.projects} projects, image_count_total = {args.limit} each",
                flush=True,
            )
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.images) as pool:
                futures = [
                    pool.submit(
                        one_import, url, projects[n % len(projects)], args.size_kib * 1024, started, args.timeout
                    )
                    for n in range(args.images)
                ]
                outcomes = [f.result() for f in futures]
            total = time.monotonic() - started
            counts = usage_counts(url, projects)
            admitted_ids = {o.image_id for o in outcomes if o.admitted and o.image_id}
            problems = events_out_of_order(events, admitted_ids)
        finally:
            stack.stop(timeout=15)

    failures = [o for o in outcomes if not o.ok]
    admitted = Counter(o.project for o in outcomes if o.admitted)
    server_errors = sorted(s for o in outcomes for s in o.statuses if s >= 500)
    expected = {
        p: min(args.limit, sum(1 for n in range(args.images) if projects[n % len(projects)] == p)) for p in projects
    }
    exact = dict(admitted) == {p: n for p, n in expected.items() if n} and counts == expected
    for bad in failures:
        print(f"FAILED {bad.project} {bad.image_id}: {bad.detail}")
    for problem in problems:
        print(f"EVENTS: {problem}")
    print(
        f"admitted per project: {dict(sorted(admitted.items()))} (limit {args.limit}): {'exact' if exact else 'NOT EXACT'}"
    )
    print(f"usage per project (GET /v2/info/usage image_count_total): {counts}")
    print(f"refused with 413: {sum(1 for o in outcomes if not o.admitted and o.ok)}; 5xx answers: {len(server_errors)}")
    print(f"events of {len(admitted_ids)} admitted images in order: {'yes' if not problems else 'NO'}")
    good = [o for o in outcomes if o.ok and o.admitted]
    print(f"active with the right MD5/SHA-512: {len(good)}/{len(admitted_ids)}")
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
    return 0 if not failures and exact and not server_errors and not problems else 1


if __name__ == "__main__":
    sys.exit(main())

"""Beside real Glance 33: the same file staged and imported (glance-direct) by both, on the same kind of S3.

    .venv/bin/python benchmarks/glance_side_by_side.py               # SIDE_BY_SIDE_MIB (default 512 MiB)
    SIDE_BY_SIDE_MIB=1024 .venv/bin/python benchmarks/glance_side_by_side.py

Needs the Glance peer (``../shared/glance-peer/install.sh``; ``GLANCE_PEER_DIR``, default
``~/.cache/glance-peer``, and the scripts' directory ``GLANCE_PEER_SCRIPTS``, default
``../shared/glance-peer``); without it the figure says so and is skipped.

- Glance: an instance of its own (sqlite, S3 store through glance_store's S3 driver with its defaults:
  10 MiB parts, 10 threads) against a moto server with the local stack's streaming S3 in a process of
  its own. Staging is ``PUT /v2/images/{id}/stage`` (one stream to its staging directory), then
  ``POST .../import`` and polling until ``active``. Its memory: the uWSGI tree plus that moto server.
- Ours: ``make run``'s local stack (moto embedded in its process tree). Staging is the direct-upload
  extension (presigned part URLs, parts PUT in parallel, as ``glance-image-upload`` does), then
  ``upload-complete`` with the import asked for, polling until ``active``. Its memory: the whole tree.

Both run in the same invocation, one after the other, so the ratios compare like with like on this
machine. Figures only.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import MIB, REPO, MotoServer, free_port, section, table
from local_memory import IMAGE_IMPORT_TIMEOUT, FileRange, TreeRss, make_file, stage_and_import_locally

DEFAULT_MIB = 512
PEER_DIR = Path(os.environ.get("GLANCE_PEER_DIR") or Path.home() / ".cache" / "glance-peer")
PEER_SCRIPTS = Path(os.environ.get("GLANCE_PEER_SCRIPTS") or REPO.parent / "shared" / "glance-peer")
INSTANCE = "side-by-side-bench"
# fakeauth: Glance's context middleware reads who the caller is from the headers Keystone would add
GLANCE_HEADERS = {
    "X-Identity-Status": "Confirmed",
    "X-User-Id": "demo",
    "X-Project-Id": "demo",
    "X-Roles": "member,reader",
    "Accept": "application/json",
}


def _glance(port: int, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict | None]:
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=IMAGE_IMPORT_TIMEOUT, blocksize=MIB)
    all_headers = {**GLANCE_HEADERS, **(headers or {})}
    if isinstance(body, dict):
        body, all_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(text) if text else None
    except ValueError:
        return response.status, {"text": text}


def _peer(script: str, *args: str, env: dict | None = None) -> None:
    subprocess.run(
        ["bash", str(PEER_SCRIPTS / script), *args],
        check=True,
        capture_output=True,
        env={**os.environ, "PEER_DIR": str(PEER_DIR), **(env or {})},
        cwd=REPO,
    )


def glance_import(tmp: Path, source: Path, size: int, md5: str) -> dict:
    """Real Glance: create, PUT /stage, glance-direct import, until active; times and its tree's peak RSS."""
    port = free_port()
    with MotoServer(tmp / "glance-s3") as s3:
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "PUT", f"{s3.url}/glance"], check=True)
        _peer("setup_glance.sh", INSTANCE, str(port), "s3", s3.url, env={"PROTECTIONS": "off"})
        _peer("start_glance.sh", INSTANCE)
        try:
            master = int((PEER_DIR / INSTANCE / "glance.pid").read_text())
            with TreeRss(master) as glance_rss, TreeRss(s3.proc.pid) as moto_rss:
                baseline = glance_rss.last + moto_rss.last
                status, image = _glance(
                    port, "POST", "/v2/images", {"name": "bench", "disk_format": "raw", "container_format": "bare"}
                )
                assert status == 201, image
                started = time.perf_counter()
                fd = os.open(source, os.O_RDONLY)
                try:
                    status, reply = _glance(
                        port,
                        "PUT",
                        f"/v2/images/{image['id']}/stage",
                        FileRange(fd, 0, size),
                        {"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                    )
                finally:
                    os.close(fd)
                assert status == 204, reply
                staged = time.perf_counter()
                status, reply = _glance(
                    port, "POST", f"/v2/images/{image['id']}/import", {"method": {"name": "glance-direct"}}
                )
                assert status == 202, reply
                shown = _wait_active(lambda: _glance(port, "GET", f"/v2/images/{image['id']}"))
                done = time.perf_counter()
            peak = _summed_peak(glance_rss, moto_rss)
        finally:
            _peer("stop_glance.sh", INSTANCE)
            shutil.rmtree(PEER_DIR / INSTANCE, ignore_errors=True)
    ok = shown["status"] == "active" and shown["checksum"] == md5 and shown["size"] == size
    return {
        "ok": ok,
        "status": shown["status"],
        "stage_s": staged - started,
        "import_s": done - staged,
        "peak": peak,
        "baseline": baseline,
    }


def _summed_peak(*samplers: TreeRss) -> int:
    # each sampler keeps its own peak; their sum bounds the joint peak from above (both sample every 100 ms)
    return sum(sampler.peak for sampler in samplers)


def _wait_active(show) -> dict:
    deadline = time.monotonic() + IMAGE_IMPORT_TIMEOUT
    while True:
        status, shown = show()
        if status == 200 and shown["status"] in ("active", "killed", "deleted"):
            return shown
        if time.monotonic() > deadline:
            return shown
        time.sleep(0.2)


def bench_glance_side_by_side(tmp: Path, size_mib: int | None = None) -> dict | None:
    size_mib = size_mib or int(os.environ.get("SIDE_BY_SIDE_MIB") or DEFAULT_MIB)
    size = size_mib * MIB
    section(f"Beside real Glance 33: a {size_mib} MiB glance-direct import, staged and imported by both")
    if not (PEER_DIR / "glance-venv" / "bin" / "uwsgi").exists() or not (PEER_SCRIPTS / "setup_glance.sh").exists():
        print(f"  skipped: no Glance peer at {PEER_DIR} (install it with {PEER_SCRIPTS}/install.sh)")
        return None
    source = tmp / "side-by-side.raw"
    md5 = make_file(source, size)
    glance = glance_import(tmp, source, size, md5)
    ours = stage_and_import_locally(tmp, source, size, md5)
    source.unlink()

    def row(label: str, key: str, unit: str = "s", scale: float = 1.0) -> list[str]:
        g, o = glance[key] / scale, ours[key] / scale
        return [label, f"{g:,.1f} {unit}", f"{o:,.1f} {unit}", f"{o / g:.2f}x" if g else "-"]

    glance["total_s"] = glance["stage_s"] + glance["import_s"]
    ours["total_s"] = ours["stage_s"] + ours["import_s"]
    print(
        table(
            ["", "Glance 33", "ours (local stack)", "ours / Glance"],
            [
                ["result", _verdict(glance), _verdict(ours), ""],
                row("staging", "stage_s"),
                row("import to active", "import_s"),
                row("total", "total_s"),
                row("peak RSS, process tree + its S3", "peak", "MiB", MIB),
                row("  before the first byte", "baseline", "MiB", MIB),
            ],
        )
    )
    print(
        "  Glance stages one stream to its staging directory and imports with glance_store's S3 driver;"
        " ours stages presigned parts in parallel into S3 and copies server-side in passes."
    )
    return {"glance": glance, "ours": ours}


def _verdict(result: dict) -> str:
    return "active, right checksum/size" if result["ok"] else f"{result.get('status')} (wrong?)"


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="image-import-side-by-side-"))
    try:
        result = bench_glance_side_by_side(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if result is None or (result["glance"]["ok"] and result["ours"]["ok"]) else 1


if __name__ == "__main__":
    sys.exit(main())

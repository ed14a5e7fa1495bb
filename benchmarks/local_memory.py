"""The local stack's memory on a large import: peak RSS of its process tree, staging and import time.

    .venv/bin/python benchmarks/local_memory.py                 # LOCAL_MEMORY_MIB (default 4096 MiB)
    LOCAL_MEMORY_MIB=1024 .venv/bin/python benchmarks/local_memory.py

Starts ``python -m image_import_dev.local`` as a subprocess (its moto spool files in a temp dir),
creates an image, stages a file through the direct-upload API (presigned multipart part URLs, each
part PUT with http.client straight from the file, PARALLEL_PARTS at once, then upload-complete) with
the glance-direct import asked for, and waits for ``active``. RSS of the whole process tree is
sampled every 100 ms. Figures only (issue 11's goal: a 4 GiB import under 1 GiB).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from harness import MIB, REPO, section, table
from image_import_dev.local.process import start_local_stack

DEFAULT_MIB = 4096
PARALLEL_PARTS = 4
TOKEN = "member-token"
SAMPLE_EVERY = 0.1  # s
IMAGE_IMPORT_TIMEOUT = 3600  # s


class TreeRss:
    """Samples the RSS of a process and all its descendants in a thread; keeps the peak."""

    def __init__(self, pid: int):
        import psutil

        self.root = psutil.Process(pid)
        self.peak = self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> int:
        import psutil

        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        self.last, self.peak = total, max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.sample()

    def __enter__(self) -> TreeRss:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def api(url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict | str | None]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    headers = {"X-Auth-Token": TOKEN, "Accept": "application/json"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    try:
        return response.status, json.loads(text) if text else None
    except ValueError:
        return response.status, text


class FileRange:
    """A file-like view of ``length`` bytes from ``offset``: http.client streams it as a request body."""

    def __init__(self, fd: int, offset: int, length: int):
        self.fd, self.offset, self.left = fd, offset, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = os.pread(self.fd, size, self.offset) if size else b""
        self.offset, self.left = self.offset + len(data), self.left - len(data)
        return data


def put_part(url: str, fd: int, offset: int, length: int) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600, blocksize=MIB)
    try:
        path = f"{parts.path}?{parts.query}"
        headers = {"Content-Length": str(length), "Content-Type": "application/octet-stream"}
        connection.request("PUT", path, body=FileRange(fd, offset, length), headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"PUT part at {offset}: {response.status}")
    finally:
        connection.close()


def make_file(path: Path, size: int) -> str:
    """``size`` bytes of random data (a 64 MiB random block, each copy salted so no part repeats); its MD5."""
    block = bytearray(os.urandom(64 * MIB))
    md5 = hashlib.md5()
    with path.open("wb") as out:
        written, n = 0, 0
        while written < size:
            block[:8] = n.to_bytes(8, "big")
            piece = memoryview(block)[: min(len(block), size - written)]
            out.write(piece)
            md5.update(piece)
            written, n = written + len(piece), n + 1
    return md5.hexdigest()


def stage_and_import_locally(tmp: Path, source: Path, size: int, md5: str) -> dict:
    """The local stack: create, stage ``source`` through presigned part URLs (PARALLEL_PARTS at once),
    upload-complete with the import, until active; times and the process tree's peak RSS."""
    spool = tmp / "moto-spool"
    spool.mkdir(exist_ok=True)
    env = {"TMPDIR": str(spool), "POWERTOOLS_LOG_LEVEL": "ERROR", "IMAGE_IMPORT_LOCAL_STATE": str(tmp / "state.json")}
    stack = start_local_stack(log=tmp / "local-stack.log", env=env, cwd=REPO, timeout=120)
    fd = os.open(source, os.O_RDONLY)
    try:
        with TreeRss(stack.process.pid) as rss:
            baseline = rss.last
            status, image = api(
                stack.url, "POST", "/v2/images", {"name": "mem", "disk_format": "raw", "container_format": "bare"}
            )
            assert status == 201, image
            image_id = image["id"]
            status, offer = api(
                stack.url,
                "POST",
                f"/v2/images/{image_id}/upload-urls",
                {"size": size, "import": True, "multipart": True},
            )
            assert status == 200, offer
            multipart = offer["multipart"]
            part_size = multipart["part_size"]
            started = time.perf_counter()
            with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
                futures = [
                    pool.submit(
                        put_part,
                        p["url"],
                        fd,
                        (p["part_number"] - 1) * part_size,
                        min(part_size, size - (p["part_number"] - 1) * part_size),
                    )
                    for p in multipart["parts"]
                ]
                for future in futures:
                    future.result()
            staged = time.perf_counter()
            staging_peak = rss.peak
            status, reply = api(
                stack.url, "POST", f"/v2/images/{image_id}/upload-complete", {"upload_id": multipart["upload_id"]}
            )
            assert status == 202, reply
            deadline = time.monotonic() + IMAGE_IMPORT_TIMEOUT
            while time.monotonic() < deadline:
                status, shown = api(stack.url, "GET", f"/v2/images/{image_id}")
                if status == 200 and shown["status"] in ("active", "killed", "deleted"):
                    break
                time.sleep(0.2)
            done = time.perf_counter()
    finally:
        os.close(fd)
        stack.stop()
    return {
        "ok": shown["status"] == "active" and shown["checksum"] == md5 and shown["size"] == size,
        "status": shown["status"],
        "peak": rss.peak,
        "baseline": baseline,
        "staging_peak": staging_peak,
        "stage_s": staged - started,
        "import_s": done - staged,
        "part_size": part_size,
        "parts": len(multipart["parts"]),
    }


def bench_local_memory(tmp: Path, size_mib: int | None = None) -> dict:
    size_mib = size_mib or int(os.environ.get("LOCAL_MEMORY_MIB") or DEFAULT_MIB)
    size = size_mib * MIB
    section(f"Local stack: a {size_mib} MiB glance-direct import through presigned part URLs")
    source = tmp / "image.raw"
    md5 = make_file(source, size)
    result = stage_and_import_locally(tmp, source, size, md5)
    source.unlink()
    stage_s, import_s = result["stage_s"], result["import_s"]
    print(
        table(
            ["", f"{size_mib} MiB"],
            [
                [
                    "result",
                    "active, checksum and size right" if result["ok"] else f"{result['status']} (checksum/size wrong?)",
                ],
                ["peak RSS of the process tree (MiB)", f"{result['peak'] / MIB:,.0f}"],
                ["  of which before the first part (MiB)", f"{result['baseline'] / MIB:,.0f}"],
                ["  peak while staging (MiB)", f"{result['staging_peak'] / MIB:,.0f}"],
                ["staging: parts PUT (s)", f"{stage_s:.1f}"],
                ["staging rate (MiB/s)", f"{size_mib / stage_s:,.0f}"],
                ["complete + import to active (s)", f"{import_s:.1f}"],
                ["total (s)", f"{stage_s + import_s:.1f}"],
            ],
        )
    )
    print(f"  part size {result['part_size'] // MIB} MiB, {result['parts']} parts, {PARALLEL_PARTS} in parallel")
    return result


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="image-import-localmem-"))
    try:
        result = bench_local_memory(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""What every figure of benchmarks/run.py shares: data, tables and sections, rates, the child processes'
environment, the machine header, and a moto S3 server in a process of its own."""

from __future__ import annotations

import contextlib
import os
import platform
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from image_import_dev.local.process import free_port

MIB = 1024 * 1024
CHUNK = 8 * MIB  # same as image_import.adapters.objects.CHUNK_SIZE
POOL_CHUNKS = 8  # pre-generated pool: 8 x 8 MiB = 64 MiB of random bytes, cycled
REPO = Path(__file__).resolve().parent.parent
STAGING_BUCKET = "bench-staging"
STORE_BUCKET = "bench-store"

DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "image-import-benchmark",
    "IMAGE_IMPORT_CONFIG_DIR": str(REPO / "config"),
    "IMAGES_TABLE": "bench-images",
    "TASKS_TABLE": "bench-tasks",
    "STAGING_BUCKET": STAGING_BUCKET,
    "STORE_BUCKET": STORE_BUCKET,
}


def chunk_pool() -> list[bytes]:
    """Random bytes generated once; every benchmark cycles through these, so generation is not timed."""
    return [os.urandom(CHUNK) for _ in range(POOL_CHUNKS)]


def source_chunks(pool: list[bytes], size_mib: int) -> Iterator[bytes]:
    """size_mib MiB as 8 MiB chunks (the last one shorter if size_mib is not a multiple of 8)."""
    remaining = size_mib * MIB
    i = 0
    while remaining > 0:
        chunk = pool[i % len(pool)]
        if remaining < len(chunk):
            chunk = chunk[:remaining]
        remaining -= len(chunk)
        i += 1
        yield chunk


def rate(size_mib: float, seconds: float) -> float:
    return size_mib / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A plain text table; align is one char per column, 'l' or 'r' (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        out = []
        for cell, width, a in zip(cells, widths, align, strict=True):
            out.append(str(cell).ljust(width) if a == "l" else str(cell).rjust(width))
        return "  " + "  ".join(out).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def section(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Dummy AWS and none of our PYTHON* settings but PYTHONPATH (the children run the sources we run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON")) or k == "PYTHONPATH"}
    env.update(DUMMY_AWS_ENV)
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------------------------
# moto S3 in a separate process


# moto's server with the local stack's streaming S3 (image_import_dev.local.s3_streaming): what `make run`
# serves, and without it moto holds whole objects and re-reads the source of every UploadPartCopy
STREAMING_MOTO = (
    "import sys; from image_import_dev.local import s3_streaming; s3_streaming.install(); "
    "from moto.server import main; sys.exit(main(sys.argv[1:]))"
)


class MotoServer:
    """moto's server (streaming S3, as the local stack's) on a free 127.0.0.1 port; its spooled temp files go
    under tmp_dir."""

    def __init__(self, tmp_dir: Path):
        self.tmp_dir = tmp_dir / "moto-tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = tmp_dir / "moto.log"

    def __enter__(self) -> MotoServer:
        env = child_env({"TMPDIR": str(self.tmp_dir)})
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", STREAMING_MOTO, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches us, we stop it
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start within 30 s") from None
                time.sleep(0.1)

    def hwm_mib(self) -> float | None:
        kib = status_kib("VmHWM", self.proc.pid)
        return None if kib is None else kib / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        with contextlib.suppress(Exception):
            self._log.close()

    def __exit__(self, *exc) -> None:
        self.stop()


def use_endpoint(url: str) -> None:
    """Point this process's boto3 (and the domain's cached clients) at the moto server."""
    os.environ.update(DUMMY_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = url
    from image_import.adapters.aws import reset_clients

    reset_clients()


# ---------------------------------------------------------------------------------------------
# /proc


def status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------------------


def machine_header() -> None:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print("image import benchmarks (figures only; nothing here asserts on time)")
    print(
        f"  {os.cpu_count()} CPUs ({cpu}); Python {platform.python_version()}; {ssl.OPENSSL_VERSION}; "
        f"{platform.system()} {platform.release()}"
    )


class SendfileS3:
    """A stand-in for S3's GetObject/HeadObject that costs almost no CPU: every key is one file, served with
    ranges and If-Match by ``os.sendfile``. Reading from it measures our reader, not the server (moto's
    Python serving costs about as much CPU per MiB as our hashing, and on 2 cores the two compete)."""

    ETAG = "0123456789abcdef0123456789abcdef"

    def __init__(self, path: Path):
        import http.server
        import threading

        self.path, self.size = path, path.stat().st_size
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _headers(self, status: int, length: int, extra: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(length), "ETag": f'"{server.ETAG}"', **extra}.items():
                    self.send_header(name, value)
                self.end_headers()

            def do_HEAD(self) -> None:
                self._headers(200, server.size, {"Accept-Ranges": "bytes"})

            def do_GET(self) -> None:
                if self.headers.get("If-Match", f'"{server.ETAG}"').strip('"') != server.ETAG:
                    self._headers(412, 0, {})
                    return
                first, last = 0, server.size - 1
                if spec := self.headers.get("Range"):
                    start, _, end = spec.removeprefix("bytes=").partition("-")
                    first, last = int(start), min(int(end) if end else last, last)
                count = last - first + 1
                status = 206 if spec else 200
                self._headers(status, count, {"Content-Range": f"bytes {first}-{last}/{server.size}"})
                self.wfile.flush()
                with open(server.path, "rb") as source:
                    offset = first
                    while count:
                        sent = os.sendfile(self.connection.fileno(), source.fileno(), offset, count)
                        offset, count = offset + sent, count - sent

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="sendfile-s3", daemon=True)

    def __enter__(self) -> SendfileS3:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

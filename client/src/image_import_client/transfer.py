"""Parts PUT to their presigned URLs, a few at a time, streamed from disk, with a progress bar."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import IO

import urllib3

from image_import_client.parts import MiB, Part

READ_SIZE = 1 * MiB  # what is read from disk and handed to the socket at a time
ATTEMPTS = 4  # per part, on a dropped connection or an S3 5xx


class PartRefused(RuntimeError):
    """S3 refused a part for good: the URL expired, its signature does not match, or the upload is gone."""

    def __init__(self, number: int, status: int, code: str, message: str):
        super().__init__(f"part {number}: S3 answered {status} {code}: {message}")
        self.number, self.status, self.code = number, status, code

    @property
    def upload_gone(self) -> bool:
        return self.code == "NoSuchUpload" or self.status == 404

    @property
    def expired(self) -> bool:
        return self.status == 403 and "expired" in str(self).lower()


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, total: int, done: int = 0, stream: IO[str] | None = None, enabled: bool = True):
        self.total, self.done, self.sent = total, done, 0  # done: bytes counted so far; sent: in this run
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._drawn_at = 0.0
        self._tenth = self._tenths()
        self._printed_last = False
        self._tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            self.sent += count
            self._draw(final=False)

    def finish(self) -> None:
        with self._lock:
            self._draw(final=True)
            if self.enabled and self._tty:
                self.stream.write("\n")
                self.stream.flush()

    def rate(self) -> float:
        """Bytes per second sent in this run."""
        return self.sent / max(time.monotonic() - self.started, 1e-9)

    def line(self) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(fraction * 30)
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 else 0
        return (
            f"[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}% "
            f"{self.done / MiB:.1f}/{self.total / MiB:.1f} MiB {rate / MiB:.1f} MiB/s "
            f"ETA {int(left) // 60}:{int(left) % 60:02d}"
        )

    def _tenths(self) -> int:
        return self.done * 10 // self.total if self.total else 10

    def _draw(self, final: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._tty:
            if final or now - self._drawn_at >= 0.2:
                self.stream.write("\r" + self.line())
                self.stream.flush()
                self._drawn_at = now
        elif self._tenths() > self._tenth or (final and not self._printed_last):
            self._tenth = self._tenths()
            self._printed_last = self.done >= self.total
            self.stream.write(self.line() + "\n")
            self.stream.flush()


class PartReader:
    """One part of the file as a stream: never more than READ_SIZE of it in memory."""

    def __init__(self, path: str, part: Part, progress: Progress):
        self.file = open(path, "rb")  # noqa: SIM115 - closed by close(), after the PUT
        self.file.seek(part.offset)
        self.left = part.length
        self.progress = progress
        self.counted = 0

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        chunk = self.file.read(size)
        self.left -= len(chunk)
        self.counted += len(chunk)
        self.progress.add(len(chunk))
        return chunk

    def close(self) -> None:
        self.file.close()


def s3_error(body: bytes) -> tuple[str, str]:
    """(Code, Message) of S3's XML error body."""
    text = body.decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else "", message.group(1) if message else text.strip()[:200])


def put_part(pool: urllib3.PoolManager, url: str, path: str, part: Part, progress: Progress) -> str:
    """PUT one part; its ETag. Retries a dropped connection or a 5xx; raises PartRefused on a 4xx."""
    for attempt in range(1, ATTEMPTS + 1):
        reader = PartReader(path, part, progress)
        try:
            # Content-Length is signed into the URL: S3 refuses any other length
            response = pool.urlopen(
                "PUT",
                url,
                body=reader,
                headers={"Content-Length": str(part.length)},
                retries=False,
                timeout=urllib3.Timeout(connect=30, read=300),
                preload_content=True,
            )
        except (urllib3.exceptions.HTTPError, OSError):
            if attempt == ATTEMPTS:
                raise
            response = None
        finally:
            reader.close()
        if response is not None and response.status == 200:
            return (response.headers.get("ETag") or "").strip('"')
        progress.add(-reader.counted)  # those bytes are sent again
        if response is not None and response.status < 500:
            raise PartRefused(part.number, response.status, *s3_error(response.data))
        if attempt == ATTEMPTS:
            assert response is not None
            raise PartRefused(part.number, response.status, *s3_error(response.data))
        time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def send_parts(
    path: str,
    parts: Iterable[Part],
    urls: dict[int, str],
    *,
    parallel: int,
    progress: Progress,
    on_done: Callable[[Part, str], None],
) -> None:
    """Send ``parts``, ``parallel`` at a time; ``on_done(part, etag)`` runs in this thread after each one.

    On the first failure, the parts not yet started are dropped and the ones in flight finish (their
    ``on_done`` still runs) before it is raised: what S3 has stored is recorded either way.
    """
    pool = urllib3.PoolManager(maxsize=parallel, blocksize=READ_SIZE)
    pending: set[Future] = set()
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="part") as executor:
        futures = {executor.submit(put_part, pool, urls[p.number], path, p, progress): p for p in parts}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    if future.cancelled():
                        continue
                    if future.exception() is None:
                        on_done(futures[future], future.result())
                    elif failure is None:
                        failure = future.exception()
                if failure is not None:
                    for future in pending:
                        future.cancel()
        except BaseException:  # Ctrl-C: start nothing more; what finished is recorded
            for future in pending:
                future.cancel()
            raise
    if failure is not None:
        raise failure

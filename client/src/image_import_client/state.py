"""What an upload in progress has sent, kept on disk so that a second run sends only the rest.

One small JSON file per (endpoint, file) under ``~/.cache/glance-image-upload/`` (``$XDG_CACHE_HOME``),
mode 0600: it holds presigned URLs, which let anyone write those parts until they expire. It is
rewritten atomically (temporary file + rename) after each part S3 acknowledged, by one thread, so a
kill at any moment leaves either the old or the new record, never half of one. A part is recorded
only after S3 answered 200: a part sent but not recorded is sent again, which S3 allows (same
number, same bytes). The record is only trusted for the same file unchanged (size and mtime), the
same image, and URLs that have not expired.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = 1
EXPIRY_MARGIN = 60  # seconds: a URL this close to expiring may die in the middle of its PUT


def default_state_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glance-image-upload"


@dataclass(frozen=True)
class FileIdentity:
    """The file as it was when the upload began: any change of these means other bytes."""

    path: str  # absolute, symlinks resolved
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> FileIdentity:
        real = os.path.realpath(path)
        stat = os.stat(real)
        return cls(real, stat.st_size, stat.st_mtime_ns)


@dataclass
class UploadState:
    endpoint: str
    file: FileIdentity
    image_id: str
    upload_id: str
    part_size: int
    start_import: bool
    issued_at: float  # epoch seconds at which the URLs were received
    expires_in: int
    urls: dict[int, str]
    done: dict[int, str] = field(default_factory=dict)  # part number -> ETag S3 answered
    completed: bool = False  # upload-complete was answered: the S3 event stages it, nothing more to send

    def urls_valid(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) < self.issued_at + self.expires_in - EXPIRY_MARGIN

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> UploadState:
        data = json.loads(text)
        if data.pop("format", None) != FORMAT:
            raise ValueError("unknown state format")
        data["file"] = FileIdentity(**data["file"])
        data["urls"] = {int(n): url for n, url in data["urls"].items()}
        data["done"] = {int(n): etag for n, etag in data["done"].items()}
        return cls(**data)


class StateStore:
    """The state files of one directory; one file per (endpoint, file path)."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else default_state_dir()

    def path_for(self, endpoint: str, file: FileIdentity) -> Path:
        digest = hashlib.sha256(f"{endpoint}\n{file.path}".encode()).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    def load(self, endpoint: str, file: FileIdentity) -> UploadState | None:
        """The recorded upload of this file to this endpoint, if it is of the same bytes (else None)."""
        try:
            state = UploadState.from_json(self.path_for(endpoint, file).read_text())
        except (OSError, ValueError, TypeError, KeyError):
            return None  # none, unreadable or from another version: start afresh
        return state if state.file == file and state.endpoint == endpoint else None

    def save(self, state: UploadState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path_for(state.endpoint, state.file)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(state.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)

    def forget(self, endpoint: str, file: FileIdentity) -> None:
        self.path_for(endpoint, file).unlink(missing_ok=True)

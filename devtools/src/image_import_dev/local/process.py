"""The local stack as a user runs it (``python -m image_import_dev.local``), in a subprocess.

The one starter for the end-to-end tests, tempest, the load benchmark and anything else that wants a
running service: a free port, the caller's environment without ``AWS_*`` (the child makes its own moto),
output to a log file, and the wait for the ready banner. The handle knows the URL, the output, how to stop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READY = "Image API ready at "  # what __main__ prints once the API answers; the URL follows


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class LocalStackProcess:
    process: subprocess.Popen
    url: str
    log: Path

    def logs(self) -> str:
        return self.log.read_text()

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM (a clean stop), SIGKILL if that takes longer than ``timeout``; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> LocalStackProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without AWS_* (the child makes its own moto), unbuffered, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "PYTHONUNBUFFERED": "1", **(extra or {})}


def start_local_stack(
    config_dir: Path | None = None,
    *,
    log: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> LocalStackProcess:
    """Start the local stack on a free port and wait until it is ready.

    ``config_dir``: its operator configuration (else the child's default); ``args``: more command-line
    options (``--template``, ``--no-render``...); ``env``: more environment; ``cwd``: where
    ``./template.yaml`` is looked for. Raises RuntimeError with the output if it exits or is not ready
    within ``timeout`` seconds.
    """
    extra = {"PORT": str(free_port())}
    if config_dir is not None:
        extra["IMAGE_IMPORT_CONFIG_DIR"] = str(config_dir)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "image_import_dev.local", *args],
            cwd=cwd,
            env=child_env({**extra, **(env or {})}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while not _ready_line_in(output := log.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"the local stack did not start (exit status {process.returncode}):\n{output}")
        time.sleep(0.05)
    return LocalStackProcess(process, output.split(READY, 1)[1].split()[0], log)


def _ready_line_in(output: str) -> bool:
    return READY in output and "\n" in output.split(READY, 1)[1]  # the whole line, URL and all

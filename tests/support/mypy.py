"""mypy on a few files: the ports' conformance checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import image_import
from tests.support.paths import ROOT


def mypy(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """mypy on just these files; what they import is read for its types, its own errors not reported."""
    package_root = Path(image_import.__file__).resolve().parents[1]  # this checkout's sources
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(package_root), str(ROOT)])}
    command = [sys.executable, "-m", "mypy", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache")]
    command += ["--no-error-summary", "--hide-error-context", "--python-version", "3.11", *map(str, files)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

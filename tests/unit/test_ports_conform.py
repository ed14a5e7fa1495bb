"""The ports are Protocols: mypy checks that the boto3 adapters and the fakes both satisfy them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import image_import

ROOT = Path(__file__).resolve().parents[2]
CONFORM = ROOT / "tests" / "unit" / "ports_conform.py"
# a fake that drifted: a method lost an argument, another renamed its keyword
DRIFTED = """
from image_import.adapters.ports import ImageRecords, StagingBucket
from tests.unit.fakes import FakeBucket, FakeRecords


class LostAnArgument(FakeBucket):
    def presigned_part(self, key, upload_id, part_number, expires_in):
        return ""


class RenamedAKeyword(FakeRecords):
    def edit(self, record_id, change, tries):
        return None


staging: StagingBucket = LostAnArgument()
images: ImageRecords = RenamedAKeyword()
"""


def mypy(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """mypy on just these files; what they import is read for its types, its own errors not reported."""
    package_root = Path(image_import.__file__).resolve().parents[1]  # this checkout's sources
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(package_root), str(ROOT)])}
    command = [sys.executable, "-m", "mypy", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache")]
    command += ["--no-error-summary", "--hide-error-context", "--python-version", "3.11", *map(str, files)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_adapters_and_the_fakes_satisfy_the_ports_and_a_drifted_fake_does_not(tmp_path):
    drifted = tmp_path / "drifted.py"
    drifted.write_text(DRIFTED)

    result = mypy(tmp_path, CONFORM, drifted)  # one run for both: mypy's start-up is most of the time

    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [e for e in errors if not e.startswith(str(drifted))] == [], result.stdout + result.stderr
    assert len(errors) == 2, result.stdout + result.stderr
    assert (
        "def presigned_part(self, key: str, upload_id: str, part_number: int, expires_in: int, content_length: int)"
        in result.stdout
    )
    assert "attempts: int" in result.stdout and "tries: Any" in result.stdout

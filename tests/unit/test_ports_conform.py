"""The ports are Protocols: mypy checks that the boto3 adapters and the fakes both satisfy them."""

from __future__ import annotations

from pathlib import Path

from tests.support.mypy import mypy

ROOT = Path(__file__).resolve().parents[2]
CONFORM = ROOT / "tests" / "unit" / "ports_conform.py"
# a fake that drifted: a method lost an argument, another renamed its keyword
DRIFTED = """
from image_import.adapters.ports import ImageRecords, StagingBucket
from tests.support.fakes import FakeBucket, FakeRecords


class LostAnArgument(FakeBucket):
    def presigned_part(self, key, upload_id, part_number, expires_in):
        return ""


class RenamedAKeyword(FakeRecords):
    def edit(self, record_id, change, tries):
        return None


staging: StagingBucket = LostAnArgument()
images: ImageRecords = RenamedAKeyword()
"""


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

"""`python -m image_import_dev.sweep` (make sweep) against a running local stack, from another process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

ORPHAN = "staging/6f1e0c7a-1111-4222-8333-444455556666"


def run_sweeper(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # it reads the stack's file
    command = [sys.executable, "-m", "image_import_dev.sweep", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_local_stack_records_where_its_aws_lives(service):
    recorded = json.loads(Path(os.environ["IMAGE_IMPORT_LOCAL_STATE"]).read_text())
    assert recorded["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert recorded["STAGING_BUCKET"] and recorded["STATE_MACHINE_ARN"]


def test_the_sweeper_cli_removes_an_orphan_staged_object_and_prints_its_counts(service):
    import boto3

    recorded = json.loads(Path(os.environ["IMAGE_IMPORT_LOCAL_STATE"]).read_text())
    s3 = boto3.client(
        "s3",
        endpoint_url=recorded["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    s3.put_object(Bucket=recorded["STAGING_BUCKET"], Key=ORPHAN, Body=b"left behind")
    result = run_sweeper("--grace-minutes", "0")
    assert result.returncode == 0, result.stderr
    assert "staged objects deleted: 1" in result.stdout
    assert s3.list_objects_v2(Bucket=recorded["STAGING_BUCKET"]).get("KeyCount", 0) == 0


def test_the_sweeper_cli_without_a_stack_says_what_is_missing(tmp_path):
    result = run_sweeper("--stack-file", str(tmp_path / "none.json"))
    assert result.returncode == 2 and "make run" in result.stderr

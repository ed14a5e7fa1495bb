"""The load test (benchmarks/load.py, ``make load``) at its full concurrency with small images: 50
concurrent imports from 5 projects under image_count_total = 2 admit exactly 10, answer no 5xx, and every
admitted image's events arrive in order."""

from __future__ import annotations

import subprocess
import sys

from tests.support.paths import ROOT


def test_fifty_concurrent_imports_from_five_projects_are_admitted_exactly_with_events_in_order():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--images", "50", "--size-kib", "16"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(limit 2): exact" in run.stdout
    assert "refused with 413: 40; 5xx answers: 0" in run.stdout
    assert "events of 10 admitted images in order: yes" in run.stdout
    assert "active with the right MD5/SHA-512: 10/10" in run.stdout

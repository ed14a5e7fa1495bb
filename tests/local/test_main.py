"""`python -m image_import_dev.local` as a user runs it: a subprocess serving over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.local.conftest import TEMPLATE, free_port

READY = "Image API ready at "
ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # the child makes its own
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture
def served(tmp_path):
    """The fixture template served by the module's entry point; the URL it printed. Must stop cleanly."""
    log = tmp_path / "local.log"
    command = [sys.executable, "-m", "image_import_dev.local", "--template", str(TEMPLATE), "--no-render"]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=child_env(PORT=str(free_port())), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while READY not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield log.read_text().split(READY, 1)[1].split()[0]
    finally:
        process.terminate()
        returncode = process.wait(timeout=10)
    assert returncode == 0, f"SIGTERM should stop it cleanly:\n{log.read_text()}"


def test_given_the_fixture_template_when_run_as_a_module_then_it_prints_the_ready_line_and_serves(served):
    url = served

    with urllib.request.urlopen(url + "/health", timeout=10) as response:
        echo = json.loads(response.read())

    assert url.startswith("http://127.0.0.1:")
    assert (response.status, echo["function"]) == (200, "local-ApiFunction")


def test_given_a_malformed_configuration_when_started_then_it_exits_2_naming_the_file_and_line(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    for name in os.listdir(ROOT / "config"):
        (config / name).write_bytes((ROOT / "config" / name).read_bytes())
    (config / "glance-image-import.conf").write_text("[image_import_opts]\nimage_import_plugins = [no_op\n")
    command = [sys.executable, "-m", "image_import_dev.local", "--template", str(ROOT / "template.yaml")]

    result = subprocess.run(
        [*command, "--config-dir", str(config)], env=child_env(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert f"{config / 'glance-image-import.conf'}:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_given_no_template_when_started_then_it_exits_2_with_an_error(tmp_path):
    command = [sys.executable, "-m", "image_import_dev.local", "--template", str(tmp_path / "missing.yaml")]

    result = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=60)

    assert (result.returncode, "Traceback" in result.stderr) == (2, False)
    assert "missing.yaml" in result.stderr

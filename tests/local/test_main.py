"""`python -m image_import_dev.local` as a user runs it: a subprocess serving over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from image_import_dev.local.process import child_env, start_local_stack

from tests.support.local_stack import TEMPLATE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path):
    """The fixture template served by the module's entry point; the URL it printed. Must stop cleanly."""
    args = ["--template", str(TEMPLATE), "--no-render"]
    stack = start_local_stack(log=tmp_path / "local.log", args=args, timeout=30)
    yield stack.url
    assert stack.stop() == 0, f"SIGTERM should stop it cleanly:\n{stack.logs()}"


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
        if (ROOT / "config" / name).is_file():  # not config/examples/
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


def test_given_the_stack_running_when_it_prints_its_glance_command_then_the_command_runs_as_pasted(served, tmp_path):
    """A newcomer's PATH lacks the venv: the printed command names glance by a path (issue 11)."""
    logs = (tmp_path / "local.log").read_text()
    command = next(line for line in logs.splitlines() if "try:" in line).split("try:", 1)[1].split()

    assert "/" in command[0], f"{command[0]} would be looked up on PATH"
    assert command[1:3] == ["--os-image-url", served]
    program = (Path.cwd() / command[0]).resolve()  # relative to where the stack was started
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no venv on PATH
    result = subprocess.run([str(program), "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr

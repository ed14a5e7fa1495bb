"""`sam build` without Docker, and the built layer really carries the plugin entry points."""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import distributions

import pytest

from tests.support.paths import ROOT


def python312_dir() -> str | None:
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "print-python312"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.strip() or None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = python312_dir()
    if not directory:
        pytest.skip("sam build needs a python3.12 interpreter (the Lambda runtime); none on this machine")
    subprocess.run(["make", "-s", ".venv-sam/bin/sam"], cwd=ROOT, check=True, timeout=600)
    build_dir = tmp_path_factory.mktemp("sam-build")
    env = {**os.environ, "PATH": f"{directory}:{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(ROOT / ".venv-sam/bin/sam"), "build", "--build-dir", str(build_dir), "--template", str(ROOT / "template.yaml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return build_dir


def test_the_built_layer_exposes_the_plugin_entry_points(built):
    layer = built / "DomainLayer" / "python"
    names = {
        ep.name
        for dist in distributions(path=[str(layer)])
        for ep in dist.entry_points
        if ep.group == "glance.image_import.plugins"
    }
    assert {"no_op", "inject_image_metadata"} <= names


def test_every_configured_plugin_has_a_built_function(built):
    from image_import_dev.render import plugin_function_id

    from image_import.settings import load_settings

    for plugin in load_settings(ROOT / "config").image_import_plugins:
        assert (built / plugin_function_id(plugin) / "app.py").exists(), plugin


def test_the_configuration_ships_in_its_own_layer(built):
    assert (built / "template.yaml").exists()
    text = (built / "template.yaml").read_text()
    assert "ConfigLayer" in text


def test_sam_validate_lint_passes():
    # `sam validate --lint` is what `make lint-template` runs; the same aws-sam-cli as the build
    subprocess.run(["make", "-s", ".venv-sam/bin/sam"], cwd=ROOT, check=True, timeout=600)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [str(ROOT / ".venv-sam/bin/sam"), "validate", "--lint", "--template", str(ROOT / "template.yaml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "is a valid SAM Template" in result.stdout + result.stderr

"""The Lambda layer carries what the functions run, and nothing of the dev tooling.

The layer is built exactly as ``sam build`` builds it, by the Makefile target of layers/image_import
(a pip install of the package into ``<artifacts>/python``), without its dependencies (they are PyPI's,
not ours) and without sam or python3.12. The local stack, the renderer, the CLIs live in the dev-only
distribution ``image_import_dev`` (devtools/) and must stay there.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE_SOURCE = ROOT / "layers/image_import/src/image_import"
DEV_PACKAGE = "image_import_dev"


def build_layer(artifacts: Path) -> Path:
    """``make -C layers/image_import build-DomainLayer``, as sam build runs it; the layer's python/ folder."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # the Makefile's `python`
        "PIP_NO_DEPS": "1",  # our package only: its dependencies are not ours to check (and it stays fast)
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    command = ["make", "-s", "-C", str(ROOT / "layers/image_import"), "build-DomainLayer", f"ARTIFACTS_DIR={artifacts}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return artifacts / "python"


def modules_of(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every Python file under a built package (a package by its own name)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def is_cli(source: str) -> bool:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            return True
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if "argparse" in names:
                return True
    return False


def dev_only(module: str, path: Path) -> str | None:
    """Why ``module`` has no place in the layer, or None."""
    parts = module.split(".")
    if "local" in parts:
        return "the local stack"
    if any("render" in part for part in parts):
        return "a renderer"
    if parts[-1] == "__main__" or is_cli(path.read_text()):
        return "a command-line tool"
    return None


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    return build_layer(tmp_path_factory.mktemp("layer-artifacts"))


def test_the_built_layer_holds_the_domain_package_and_its_metadata_only(layer):
    top_level = {p.name for p in layer.iterdir() if p.name != "__pycache__"}
    assert top_level == {"image_import", "image_import-0.1.0.dist-info"}
    assert not any(DEV_PACKAGE in p.name for p in layer.rglob("*"))


def test_the_built_layer_has_the_modules_the_functions_import(layer):
    modules = modules_of(layer / "image_import")
    assert {"image_import.adapters.ports", "image_import.intake.direct_upload", "image_import.settings"} <= set(modules)
    assert {"image_import.steps.work", "image_import.plugins.registry", "image_import.observability"} <= set(modules)


def test_the_built_layer_has_no_local_stack_no_renderer_and_no_cli(layer):
    found = {
        module: why for module, path in modules_of(layer / "image_import").items() if (why := dev_only(module, path))
    }
    assert found == {}


def test_a_module_left_over_from_an_earlier_build_does_not_ship(tmp_path):
    leftover = ROOT / "layers/image_import/build/lib/image_import/render.py"  # as if src/ had it once
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_text("")
    try:
        layer = build_layer(tmp_path)
    finally:
        leftover.unlink(missing_ok=True)
    assert not (layer / "image_import/render.py").exists()


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, statically or by ``importlib.import_module("...")``/``__import__``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def test_nothing_in_the_domain_package_imports_the_dev_tooling():
    offenders = {
        str(path.relative_to(PACKAGE_SOURCE.parent)): sorted(
            n for n in imported_modules(path.read_text()) if n.split(".")[0] == DEV_PACKAGE
        )
        for path in PACKAGE_SOURCE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import argparse\n", {"argparse"}),
        ("from image_import_dev.local import stack\n", {"image_import_dev.local"}),
        (
            "import importlib\nimportlib.import_module('image_import_dev.render')\n",
            {"importlib", "image_import_dev.render"},
        ),
        ("from . import sibling\n", set()),
    ],
)
def test_imports_are_found_however_they_are_written(source, expected):
    assert imported_modules(source) == expected


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("image_import.local.stack", "", "the local stack"),
        ("image_import.render", "", "a renderer"),
        ("image_import.tool", "import argparse\n", "a command-line tool"),
        ("image_import.tool", "def main(): ...\nif __name__ == '__main__':\n    main()\n", "a command-line tool"),
        ("image_import.__main__", "", "a command-line tool"),
        ("image_import.models.image", "from pydantic import BaseModel\n", None),
    ],
)
def test_dev_only_modules_are_recognised(tmp_path, module, source, why):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert dev_only(module, path) == why

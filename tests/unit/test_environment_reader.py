"""settings/environment.py is the only module of the domain package that reads the process environment."""

from __future__ import annotations

import ast

from tests.support.paths import ROOT

PACKAGE = ROOT / "layers" / "image_import" / "src" / "image_import"
READER = PACKAGE / "settings" / "environment.py"
NAMES = {"environ", "environb", "getenv", "getenvb"}


def _reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in NAMES
            and getattr(node.value, "id", None) == "os"
            or isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & NAMES
        ):
            lines.append(node.lineno)
    return lines


def test_only_settings_environment_reads_the_environment():
    readers = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path != READER
        for line in _reads(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert readers == set(), "read the environment through image_import.settings.environment"


def test_the_scan_sees_a_reader():
    assert sorted(_reads(ast.parse("import os\nos.environ.get('X')\nfrom os import getenv\n"))) == [2, 3]
    assert _reads(ast.parse(READER.read_text(encoding="utf-8")))  # the one reader does read it

"""The tests' own layout: shared helpers live in tests/support, and no test module imports another.

A helper in a test module drags that module's tests (and fixtures) into every importer, hides the
helper from whoever reads tests/support, and ties one tier's speed to another's imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    return ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts))


def imported_modules(source: str, own: str) -> set[str]:
    """Every module the source of module ``own`` imports, anywhere in it (lazy imports included), as
    absolute names."""
    package = own.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import test_x`
    return found


def is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")


def test_module_imports(source: str, own: str) -> list[str]:
    return sorted(name for name in imported_modules(source, own) if is_test_module(name) and name != own)


test_module_imports.__test__ = False  # a helper, not a test


def test_no_module_under_tests_imports_a_test_module():
    offenders = {
        path.relative_to(TESTS).as_posix(): imports
        for path in sorted(TESTS.rglob("*.py"))
        if (imports := test_module_imports(path.read_text(encoding="utf-8"), module_name(path)))
    }
    assert offenders == {}, "move the shared helpers into tests/support/<topic>.py and import them from there"


def test_the_check_sees_lazy_relative_and_from_package_imports_but_not_a_module_importing_itself():
    source = (
        "from tests.integration.test_api import Api\n"
        "from . import test_imports\n"
        "def later():\n    import tests.unit.test_uploads\n"
        "import tests.unit.test_probe as me\n"
        "from tests.support.workflow import import_and_wait\n"
    )
    assert test_module_imports(source, "tests.unit.test_probe") == [
        "tests.integration.test_api",
        "tests.unit.test_imports",
        "tests.unit.test_uploads",
    ]


def test_every_unit_test_is_in_the_fast_tier(request):
    assert request.node.get_closest_marker("fast") is not None


def is_conftest(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1] == "conftest"


def test_only_conftest_files_import_a_conftest_module():
    """conftest.py holds fixtures; the helpers tests import from a module live in tests/support."""
    offenders = {
        path.relative_to(TESTS).as_posix(): sorted(filter(is_conftest, imported_modules(source, module_name(path))))
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py"
        and any(map(is_conftest, imported_modules(source := path.read_text(encoding="utf-8"), module_name(path))))
    }
    assert offenders == {}, "import the helper from tests/support/<topic>.py instead"

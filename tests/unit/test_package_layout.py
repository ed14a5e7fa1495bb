"""The domain package's shape: no import circles, boto3 only in the adapters, thin handlers,
and the rooms depend on each other in one direction only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "layers" / "image_import" / "src" / "image_import"
FUNCTIONS = ROOT / "functions"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(path: Path) -> set[str]:
    """Every image_import module ``path`` imports, at the top or lazily inside a function (both make a circle)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` depends on the module; `from module import name` on the module
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    edges = {}
    for name, path in MODULES.items():
        edges[name] = imported_modules(path) - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_domain_package_has_no_import_circle():
    assert cycles(graph()) == []


def test_the_circle_check_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Who may import whom: every room, bottom to top. A module imports its own room and the rooms below it,
# never one above (lazy imports and those under TYPE_CHECKING count: each is a dependency all the same).
# Glance's default rules and the URI filter are tables and pure checks that import nothing of ours; the
# settings validate against them, so they sit under settings while the rest of policy reads the settings.
ORDER = (
    "errors",
    "models",
    "policy.defaults",
    "policy.uri_filter",
    "settings",
    "policy",
    "adapters",
    "identity",
    "observability",
    "metrics",
    "notifications",
    "quotas",
    "transfer",
    "stores",
    "metadefs",
    "images",
    "plugins",
    "steps",
    "workflow",
    "intake",
    "tasks",
    "composition",
    "api",
)


def room_of(module: str) -> str:
    """The most specific declared room a module belongs to (``image_import.policy.rules`` -> ``policy``)."""
    name = module.removeprefix("image_import.")
    rooms = [room for room in ORDER if name == room or name.startswith(f"{room}.")]
    assert rooms, f"{module} is in no declared room: add its room to ORDER"
    return max(rooms, key=len)


def upward_imports(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    rank = {room: position for position, room in enumerate(ORDER)}
    return {
        (module, dependency)
        for module, dependencies in edges.items()
        if module != "image_import"
        for dependency in dependencies
        if dependency != "image_import" and rank[room_of(dependency)] > rank[room_of(module)]
    }


def test_every_module_is_in_a_declared_room():
    assert all(room_of(name) for name in MODULES if name != "image_import")


def test_no_room_imports_a_room_above_it():
    assert upward_imports(graph()) == set()


def test_the_layering_check_sees_lazy_and_type_checking_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from image_import.api.app import app\n"
        "def later():\n    from image_import.workflow import start\n"
    )
    found = imported_modules(module)
    assert {"image_import.api.app", "image_import.workflow.start"} <= found
    assert upward_imports({"image_import.models.image": found}) == {
        ("image_import.models.image", "image_import.api.app"),
        ("image_import.models.image", "image_import.workflow.start"),
    }


def imports_boto(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n.split(".")[0] in ("boto3", "botocore") for n in names):
            return True
    return False


def test_boto3_is_imported_only_by_the_adapters():
    outside = [
        name for name, path in MODULES.items() if imports_boto(path) and not name.startswith("image_import.adapters")
    ]
    assert outside == []


HANDLERS = sorted(FUNCTIONS.glob("*/app.py"))


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda p: p.parent.name)
def test_a_handler_is_thin_with_no_boto3_and_no_environment(handler):
    text = handler.read_text()
    assert len(text.splitlines()) <= 40
    assert not imports_boto(handler)
    assert "os.environ" not in text and "getenv" not in text


def test_the_dev_tooling_is_not_in_the_domain_package():
    assert not any(name.split(".")[1:2] in (["local"], ["render"], ["sweeper"]) for name in MODULES)
    assert not any("image_import_dev" in imported_modules(path) for path in MODULES.values())


def test_the_layout_page_lists_every_room_in_the_declared_order():
    page = (ROOT / "docs" / "layout.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    listed = [name.strip("` ") for row in rows for name in row.split("|")[1].split(",")]
    assert [room for room in listed if room in ORDER] == list(ORDER)

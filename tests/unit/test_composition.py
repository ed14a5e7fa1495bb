"""The composition root: one reset forgets every process cache, and a new cache in the package fails
here until it is listed (as configuration to forget, or as a fact of the process)."""

from __future__ import annotations

import ast
import importlib

from image_import import composition
from tests.support.paths import ROOT

PACKAGE = ROOT / "layers" / "image_import" / "src" / "image_import"
CACHE_DECORATORS = {"cache", "lru_cache"}


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return None


def cached_functions() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _decorator_name(d) in CACHE_DECORATORS for d in node.decorator_list
            ):
                found.add((module, node.name))
    return found


def test_every_cache_in_the_package_is_known_to_the_composition_root():
    assert cached_functions() == set(composition.CACHES) | set(composition.PROCESS_FACTS)


def test_the_scan_finds_a_cache():
    assert ("image_import.stores.buckets", "_bucket") in cached_functions()


def test_reset_forgets_every_listed_cache():
    from image_import.stores import buckets

    buckets._bucket("a-bucket", None)
    assert buckets._bucket.cache_info().currsize > 0
    composition.reset()
    for module, name in composition.CACHES:
        assert getattr(importlib.import_module(module), name).cache_info().currsize == 0, (module, name)


def test_given_cached_settings_when_the_environment_changes_and_caches_are_reset_then_settings_are_read_again(
    config_dir, monkeypatch
):
    from image_import.identity.authenticate import validator_for
    from image_import.policy.rules import engine
    from image_import.settings import get_settings

    monkeypatch.setenv("IMAGE_IMPORT_CONFIG_DIR", str(config_dir))
    composition.reset()
    try:
        first = get_settings()
        assert get_settings() is first  # cached
        built = engine(first), validator_for(first)
        monkeypatch.setenv("IMAGE_IMPORT_CONFIG_DIR", str(config_dir))
        composition.reset()
        second = get_settings()
        assert second is not first
        assert engine(first) is not built[0]
        assert validator_for(first) is not built[1]
    finally:
        composition.reset()


def test_given_cached_resources_and_ports_when_reset_then_the_new_environment_names_them(monkeypatch):
    from image_import.adapters.ports import default_ports
    from image_import.settings import get_resources

    for name in ("IMAGES_TABLE", "TASKS_TABLE", "STAGING_BUCKET", "STORE_BUCKET"):
        monkeypatch.setenv(name, f"{name.lower()}-1")
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)
    composition.reset()
    try:
        assert default_ports().images.table == "images_table-1"
        monkeypatch.setenv("IMAGES_TABLE", "images_table-2")
        assert get_resources().images_table == "images_table-1"  # read once
        composition.reset()
        assert get_resources().images_table == "images_table-2"
        assert default_ports().images.table == "images_table-2"
    finally:
        composition.reset()

"""The shipped example configurations load (config/examples/)."""

from __future__ import annotations

from image_import.settings import load_settings
from tests.support.paths import ROOT


def test_the_multi_store_example_has_three_stores_one_in_another_region():
    settings = load_settings(ROOT / "config" / "examples" / "multi-store")
    assert [s.id for s in settings.stores] == ["fast", "regional", "slow"]
    assert settings.default_backend == "fast" and settings.store("fast").bucket is None
    assert {s.region for s in settings.stores} == {None, "eu-west-1"}
    assert "copy-image" in settings.enabled_import_methods


def test_the_shipped_configuration_has_one_store():
    assert load_settings(ROOT / "config").stores == ()

"""The composition root: one reset forgets every process cache."""

from __future__ import annotations

from image_import import composition


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

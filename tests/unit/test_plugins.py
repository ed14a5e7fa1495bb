"""Plugins: found by entry point, built in configured order, unknown names stop start-up."""

from __future__ import annotations

import pytest

from image_import.models import Image, RequestContext
from image_import.plugins.base import PluginJob
from image_import.plugins.inject_metadata import InjectImageMetadataPlugin
from image_import.plugins.registry import GROUP, available, load_chain
from image_import.settings import ConfigError, load_settings
from tests.support.config import set_option


class FakeActions:
    """Stands in for ImageActions: records what a plugin sets."""

    def __init__(self):
        self.image = Image(id="00000000-0000-0000-0000-000000000001", owner="demo")
        self.set: dict[str, str] = {}

    def current(self) -> Image:
        return self.image

    def set_extra_properties(self, properties):
        allowed = {k: v for k, v in properties.items() if not k.startswith("os_glance")}
        self.set.update(allowed)
        self.image.properties.update(allowed)


def job_for(roles: list[str], actions: FakeActions) -> PluginJob:
    context = RequestContext(user_id="u", project_id="demo", roles=roles)
    return PluginJob(task_id="t", method="glance-direct", context=context, staging_key="staging/x", actions=actions)


def test_builtin_plugins_are_published_under_glances_entry_point_group():
    assert {"no_op", "inject_image_metadata"} <= set(available())
    assert GROUP == "glance.image_import.plugins"


def test_the_chain_follows_the_configured_order(config_dir):
    set_option(
        config_dir,
        "glance-image-import.conf",
        "image_import_opts",
        "image_import_plugins",
        "[inject_image_metadata, no_op]",
    )
    chain = load_chain(load_settings(config_dir))
    assert [p.name for p in chain] == ["inject_image_metadata", "no_op"]


def test_a_third_party_plugin_package_is_found_by_its_entry_point(config_dir):
    set_option(
        config_dir, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[stamp_import_method]"
    )
    chain = load_chain(load_settings(config_dir))
    assert type(chain[0]).__module__ == "sample_plugin"


def test_an_unknown_plugin_name_is_a_config_error_naming_the_file_and_line(config_dir):
    set_option(
        config_dir,
        "glance-image-import.conf",
        "image_import_opts",
        "image_import_plugins",
        "[no_op, image_frobnication]",
    )
    with pytest.raises(ConfigError, match=r"glance-image-import.conf:\d+: unknown import plugin 'image_frobnication'"):
        load_chain(load_settings(config_dir))


def test_inject_sets_the_configured_properties_for_a_member(settings):
    actions = FakeActions()
    InjectImageMetadataPlugin(settings).execute(job_for(["member", "reader"], actions))
    assert actions.set == {"property1": "value1"}


def test_inject_sets_nothing_when_the_importer_has_an_ignored_role(settings):
    actions = FakeActions()
    InjectImageMetadataPlugin(settings).execute(job_for(["admin"], actions))
    assert actions.set == {}


def test_inject_ignored_roles_are_configurable_and_case_insensitive(config_dir):
    set_option(
        config_dir, "glance-image-import.conf", "inject_metadata_properties", "ignore_user_roles", "Service,admin"
    )
    plugin = InjectImageMetadataPlugin(load_settings(config_dir))
    actions = FakeActions()
    plugin.execute(job_for(["service"], actions))
    assert actions.set == {}
    plugin.execute(job_for(["member"], actions))
    assert actions.set == {"property1": "value1"}


def test_inject_plain_form_sets_several_properties(config_dir):
    set_option(config_dir, "glance-image-import.conf", "inject_metadata_properties", "inject", "a:1, b:two")
    actions = FakeActions()
    InjectImageMetadataPlugin(load_settings(config_dir)).execute(job_for(["member"], actions))
    assert actions.set == {"a": "1", "b": "two"}


def test_injecting_into_the_reserved_namespace_is_refused_at_startup(config_dir):
    set_option(config_dir, "glance-image-import.conf", "inject_metadata_properties", "inject", "os_glance_x:1")
    with pytest.raises(ConfigError, match="reserved"):
        InjectImageMetadataPlugin(load_settings(config_dir))


def test_no_inject_option_means_nothing_is_injected(config_dir):
    path = config_dir / "glance-image-import.conf"
    path.write_text("[image_import_opts]\nimage_import_plugins = [inject_image_metadata]\n")
    actions = FakeActions()
    InjectImageMetadataPlugin(load_settings(config_dir)).execute(job_for(["member"], actions))
    assert actions.set == {}


def test_the_plugin_contract_names_nothing_of_the_workflows_internals():
    """plugins/base.py is what third parties build on: its port for changing the image is its own Protocol
    (ImageChanges), which the import's side implements (mypy checks it: tests/unit/ports_conform.py)."""
    import ast
    from pathlib import Path

    import image_import.plugins.base as contract

    imported = {
        node.module
        for node in ast.walk(ast.parse(Path(contract.__file__).read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {m for m in imported if m.startswith(("image_import.workflow", "image_import.steps"))}

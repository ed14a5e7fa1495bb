"""Find plugins by entry point and build the configured chain, failing fast on unknown names."""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from image_import.plugins.base import ImportPlugin
from image_import.settings import IMPORT_CONF, ConfigError, Settings

GROUP = "glance.image_import.plugins"


def available() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_plugin(name: str, settings: Settings) -> ImportPlugin:
    found = available()
    if name not in found:
        raise ConfigError(_unknown(name, settings, found))
    plugin_class = found[name].load()
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ImportPlugin)):
        raise ConfigError(f"entry point {name!r} in group {GROUP} is not an ImportPlugin subclass: {plugin_class!r}")
    return plugin_class(settings)


def load_chain(settings: Settings) -> list[ImportPlugin]:
    """The configured plugins, in configured order, each built (options validated)."""
    return [load_plugin(name, settings) for name in settings.image_import_plugins]


@functools.cache
def _cached(name: str, settings: Settings) -> ImportPlugin:
    return load_plugin(name, settings)


def plugin_for(name: str, settings: Settings) -> ImportPlugin:
    """One built plugin per container (plugins hold parsed options only)."""
    return _cached(name, settings)


def _unknown(name: str, settings: Settings, found: dict[str, EntryPoint]) -> str:
    option = settings.section("image_import_opts").get("image_import_plugins")
    where = option.where() if option else str(settings.config_dir / IMPORT_CONF)
    names = ", ".join(sorted(found)) or "none"
    return f"{where}: unknown import plugin {name!r} (installed in group {GROUP}: {names})"

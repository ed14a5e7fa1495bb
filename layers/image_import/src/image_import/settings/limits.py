"""Quota limits from configuration: ``[image_limits]`` of glance-api.conf and ``image-limits.yaml``.

Ours, for a site without Keystone's unified limits (``[DEFAULT] use_keystone_limits = true`` reads them from
Keystone instead): the section's options are the limit names, in Glance's units (MiB for the sizes, counts
for the others), and apply to every project; the YAML file overrides them per project::

    <project id>:
      image_count_total: 100
      image_size_total: 51200

A name set nowhere is unlimited (-1, as a Keystone limit of -1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from image_import.settings.files import _load_yaml_mapping
from image_import.settings.ini import ConfigError, Sections
from image_import.settings.options import option, parse_option

LIMITS_FILE = "image-limits.yaml"
# Glance's unified-limit names (the same as models/quota.RESOURCES; settings sit below models)
LIMIT_NAMES = ("image_size_total", "image_stage_total", "image_count_total", "image_count_uploading")
UNLIMITED = -1


@dataclass(frozen=True)
class ConfiguredLimits:
    defaults: dict[str, int] = field(default_factory=dict)
    projects: dict[str, dict[str, int]] = field(default_factory=dict)

    def limits(self, project_id: str) -> dict[str, int]:
        own = self.projects.get(project_id, {})
        return {name: own.get(name, self.defaults.get(name, UNLIMITED)) for name in LIMIT_NAMES}


def load_configured_limits(sections: Sections, config_dir: Path) -> ConfiguredLimits | None:
    """The configured limits; None when neither the section nor the file is there (no quotas)."""
    section = sections.get("image_limits")
    path = config_dir / LIMITS_FILE
    if section is None and not path.exists():
        return None
    defaults = {}
    for name, item in (section or {}).items():
        if name not in LIMIT_NAMES:
            raise ConfigError(f"{item.where()}: [image_limits] {name} is not a limit (one of {', '.join(LIMIT_NAMES)})")
        defaults[name] = parse_option(option("image_limits", name), item)  # as declared: at least -1
    return ConfiguredLimits(defaults, _project_limits(path) if path.exists() else {})


def _project_limits(path: Path) -> dict[str, dict[str, int]]:
    data, lines = _load_yaml_mapping(path)
    projects: dict[str, dict[str, int]] = {}
    for project, limits in data.items():
        where = f"{path}:{lines.get(project, 1)}"
        if not isinstance(limits, dict):
            raise ConfigError(f"{where}: project {project!r} must map limit names to numbers")
        for name, value in limits.items():
            if name not in LIMIT_NAMES:
                raise ConfigError(f"{where}: {name!r} is not a limit (one of {', '.join(LIMIT_NAMES)})")
            if isinstance(value, bool) or not isinstance(value, int) or value < UNLIMITED:
                raise ConfigError(f"{where}: {project}'s {name} must be an integer of at least -1, got {value!r}")
        projects[str(project)] = {str(n): int(v) for n, v in limits.items()}
    return projects

"""``inject_image_metadata``: set operator-chosen properties on every imported image.

Options, in ``[inject_metadata_properties]`` as in Glance:
  ignore_user_roles  comma-separated roles whose imports get nothing injected (default: admin)
  inject             properties to set, ``key:value,key2:value2``; Glance's documented quoted
                     form ``"key":"value"`` means the same (the quotes are stripped)
"""

from __future__ import annotations

from image_import.plugins.base import ImportPlugin, PluginJob
from image_import.settings import ConfigError, Settings

SECTION = "inject_metadata_properties"


class InjectImageMetadataPlugin(ImportPlugin):
    name = "inject_image_metadata"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        options = settings.section(SECTION)
        self.ignore_user_roles = {r.lower() for r in settings.value(SECTION, "ignore_user_roles")}
        self.inject: dict[str, str] = settings.value(SECTION, "inject") or {}
        reserved = [k for k in self.inject if k.startswith("os_glance")]
        if reserved:
            raise ConfigError(f"{options['inject'].where()}: cannot inject reserved properties {', '.join(reserved)}")

    def execute(self, job: PluginJob) -> None:
        if not self.inject or self.ignore_user_roles & set(job.context.roles):
            return
        job.set_properties(self.inject)

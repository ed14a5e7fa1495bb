"""What a function learns from its environment: where the configuration is, the few options the
template sets, and the names of its AWS resources. The only module of the package that reads
``os.environ``; nothing reads it at import time.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from image_import.settings.ini import ConfigError, Sections
from image_import.settings.options import OPTIONS, overrides

CONFIG_DIR_VARIABLE = "IMAGE_IMPORT_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "/opt"  # where the config layer unpacks on AWS

# Environment variables that override an option of the files: (variable, section, option), from the
# options' declarations (settings/options.py). The template sets them from its parameters, so an operator
# switches these without editing files; a file that turns use_keystone_limits on under a stack that says
# off stops start-up (settings/model.py).
ENVIRONMENT_OVERRIDES = tuple((o.environment, o.section, o.name) for o in OPTIONS if o.environment)


def option_overrides(environ: Mapping[str, str] | None) -> Sections:
    """The options ``environ`` overrides (ENVIRONMENT_OVERRIDES set and not empty), as file sections."""
    return overrides(environ)


def settings_source() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The configuration directory and the override variables of this process (the settings cache key)."""
    overrides = tuple((name, os.environ.get(name, "")) for name, _, _ in ENVIRONMENT_OVERRIDES)
    overrides += (("DEVELOPMENT_STACK", os.environ.get("DEVELOPMENT_STACK", "")),)
    return os.environ.get(CONFIG_DIR_VARIABLE, DEFAULT_CONFIG_DIR), overrides


def variable(name: str) -> str | None:
    """One variable of the process environment (None: not set): for the few modules that need one that is
    neither an option nor a resource name (the metrics namespace, the executable search path)."""
    return os.environ.get(name)


def variables(names: tuple[str, ...]) -> dict[str, str]:
    """The variables of ``names`` that are set."""
    return {name: os.environ[name] for name in names if name in os.environ}


@dataclass(frozen=True)
class Resources:
    """Names of the AWS resources this function works with, from its environment."""

    images_table: str
    tasks_table: str
    staging_bucket: str
    store_bucket: str
    state_machine_arn: str | None = None
    tokens_table: str | None = None  # the dynamodb identity backend's table
    event_bus_name: str | None = None  # where lifecycle events are published (none: not published)
    metadefs_table: str | None = None  # the metadata definitions (the API and the loader)
    # a plugin function's: the roles it works as, scoped to its import (a data plugin's may write its replacement)
    plugin_role_arn: str | None = None
    data_plugin_role_arn: str | None = None


@functools.cache
def get_resources() -> Resources:
    env = os.environ
    try:
        return Resources(
            images_table=env["IMAGES_TABLE"],
            tasks_table=env["TASKS_TABLE"],
            staging_bucket=env["STAGING_BUCKET"],
            store_bucket=env["STORE_BUCKET"],
            state_machine_arn=env.get("STATE_MACHINE_ARN"),
            tokens_table=env.get("TOKENS_TABLE"),
            event_bus_name=env.get("EVENT_BUS_NAME") or None,
            metadefs_table=env.get("METADEFS_TABLE"),
            plugin_role_arn=env.get("PLUGIN_ROLE_ARN") or None,
            data_plugin_role_arn=env.get("DATA_PLUGIN_ROLE_ARN") or None,
        )
    except KeyError as exc:
        raise ConfigError(f"environment variable {exc.args[0]} is not set") from None

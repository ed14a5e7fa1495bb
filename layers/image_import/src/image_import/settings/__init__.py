"""Operator configuration, read once from Glance's own files in one directory.

* ``ini``: the oslo.config INI format (values keep their file and line);
* ``files``: the other operator files (policy rules, development tokens, property protections);
* ``options``: every option of the INI files, declared once (type, default, bounds, help);
* ``model``: the :class:`Settings` of every file, checked at load (``load_settings``, ``get_settings``);
* ``environment``: the little a function reads from its environment (config directory, overrides,
  AWS resource names).

The names below are the package's public ones; import them from ``image_import.settings``.
"""

from image_import.settings.environment import ENVIRONMENT_OVERRIDES, Resources, get_resources
from image_import.settings.files import (
    API_CONF,
    IMPORT_CONF,
    POLICY_FILE,
    TOKENS_FILE,
    ProtectionRule,
    load_policy_file,
    load_protections,
    load_tokens,
)
from image_import.settings.ini import (
    ConfigError,
    ConfValue,
    Sections,
    parse_bool,
    parse_dict,
    parse_ini,
    parse_int,
    parse_list,
)
from image_import.settings.model import (
    DEFAULT_CONTAINER_FORMATS,
    DEFAULT_DISK_FORMATS,
    DEFAULT_MAX_API_DOWNLOAD_SIZE,
    SUPPORTED_IMPORT_METHODS,
    KeystoneSettings,
    Settings,
    get_settings,
    load_settings,
    load_uri_filter,
)
from image_import.settings.options import GIB, IDENTITY_BACKENDS, OPTIONS, Option, parse_option
from image_import.settings.stores import StoreConfig

__all__ = [
    "API_CONF",
    "DEFAULT_CONTAINER_FORMATS",
    "DEFAULT_DISK_FORMATS",
    "DEFAULT_MAX_API_DOWNLOAD_SIZE",
    "ENVIRONMENT_OVERRIDES",
    "GIB",
    "IDENTITY_BACKENDS",
    "IMPORT_CONF",
    "OPTIONS",
    "POLICY_FILE",
    "SUPPORTED_IMPORT_METHODS",
    "TOKENS_FILE",
    "ConfValue",
    "ConfigError",
    "KeystoneSettings",
    "Option",
    "ProtectionRule",
    "Resources",
    "Sections",
    "Settings",
    "StoreConfig",
    "get_resources",
    "get_settings",
    "load_policy_file",
    "load_protections",
    "load_settings",
    "load_tokens",
    "load_uri_filter",
    "parse_bool",
    "parse_dict",
    "parse_ini",
    "parse_int",
    "parse_list",
    "parse_option",
]

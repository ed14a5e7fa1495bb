"""The operator's settings: every file of the configuration directory, read and checked once.

Files (all in ``IMAGE_IMPORT_CONFIG_DIR``; on AWS the config layer unpacks them at /opt):

* ``glance-image-import.conf`` then ``glance-api.conf`` (oslo.config INI; the second overrides
  the first, as Glance loads them);
* ``policy.yaml`` (oslo.policy rules);
* the property-protections file named by ``property_protection_file``;
* ``local-tokens.yaml`` (development bearer tokens for the token-file authorizer);
* ``[identity] backend`` and ``[keystone_authtoken]`` in ``glance-api.conf`` choose how tokens are checked;
  the environment variables ``IDENTITY_BACKEND`` and ``KEYSTONE_AUTH_URL`` (set from the template's
  ``TokenBackend`` and ``KeystoneUrl`` parameters) override them when not empty.

Every problem is a :class:`ConfigError` whose message names the file and line, so a malformed
file stops start-up instead of failing open or failing an import later.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from image_import.models.caller import Caller
from image_import.policy.uri_filter import FilterOptions, parse_networks
from image_import.settings.environment import option_overrides, settings_source
from image_import.settings.files import (
    API_CONF,
    IMPORT_CONF,
    POLICY_FILE,
    TOKENS_FILE,
    ProtectionRule,
    check_protection_rules,
    load_policy_file,
    load_protections,
    load_tokens,
)
from image_import.settings.ini import ConfigError, ConfValue, Sections, Seen, parse_bool, parse_ini
from image_import.settings.limits import LIMITS_FILE, ConfiguredLimits, load_configured_limits
from image_import.settings.options import (
    BY_FIELD,
    IMPORT_METHODS,
    default,
    option,
    read,
    unknown_names,
)
from image_import.settings.oslo_limit import OsloLimitSettings, load_oslo_limit
from image_import.settings.stores import StoreConfig, load_stores

logger = logging.getLogger(__name__)

# the declarations' (settings/options.py), under the names the package has long exported
DEFAULT_DISK_FORMATS = list(default("disk_formats"))
DEFAULT_CONTAINER_FORMATS = list(default("container_formats"))
SUPPORTED_IMPORT_METHODS = list(IMPORT_METHODS)
DEFAULT_MAX_API_DOWNLOAD_SIZE = default("max_api_download_size")  # base64 of it stays under Lambda's 6 MB
DEFAULT_UPLOAD_URL_LIFETIME = default("upload_url_lifetime")  # seconds a direct-upload URL stays valid


@dataclass(frozen=True)
class KeystoneSettings:
    """``[keystone_authtoken]``: where Keystone is and the service user that validates tokens."""

    auth_url: str  # ends in /v3
    username: str
    password: str | None  # in the file; None: read from password_secret_arn or password_parameter
    project_name: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    token_cache_time: int = option("keystone_authtoken", "token_cache_time").default  # seconds, at most
    http_connect_timeout: float = option("keystone_authtoken", "http_connect_timeout").default
    # ours: where a deployed stack keeps the password instead (read once per sandbox, identity/keystone.py)
    password_secret_arn: str | None = None  # Secrets Manager: the secret string, or its JSON "password"
    password_parameter: str | None = None  # SSM Parameter Store: a SecureString's name or ARN


# A pass also ends when its function's time runs short; the byte bound keeps what a failed pass costs
# (it is read again) small. 16 GiB: at the ~150-300 MiB/s a 2-vCPU function reads and hashes, 55-110 s
# of a 900 s function, so a slow pass still ends on bytes, well inside the timeout.
DEFAULT_MAX_BYTES_PER_PASS = default("max_bytes_per_pass")


@dataclass(frozen=True, eq=False)  # hashed by identity: one Settings per process
class Settings:
    """What the operator configured; plugins read their own sections from ``sections``."""

    config_dir: Path
    enabled_import_methods: tuple[str, ...] = default("enabled_import_methods")
    image_import_plugins: tuple[str, ...] = default("image_import_plugins")
    image_size_cap: int = default("image_size_cap")
    hashing_algorithm: str = default("hashing_algorithm")
    # [image_import_opts] max_bytes_per_pass (ours): the most one pass of a copy moves (transfer/passes.py)
    max_bytes_per_pass: int = default("max_bytes_per_pass")
    public_endpoint: str | None = default("public_endpoint")
    limit_param_default: int = default("limit_param_default")
    image_tag_quota: int = default("image_tag_quota")  # tags per image (negative: unlimited)
    image_property_quota: int = default("image_property_quota")  # extra properties per image (negative: unlimited)
    api_limit_max: int = default("api_limit_max")
    # negative: unlimited (as Glance), within MAX_MEMBERS_PER_IMAGE
    image_member_quota: int = default("image_member_quota")
    disk_formats: tuple[str, ...] = default("disk_formats")
    container_formats: tuple[str, ...] = default("container_formats")
    # [image_format]: what the format inspection of stored data accepts (transfer/inspection.py)
    require_image_format_match: bool = default("require_image_format_match")
    vmdk_allowed_types: tuple[str, ...] = default("vmdk_allowed_types")
    gpt_safety_checks_nonfatal: tuple[str, ...] = default("gpt_safety_checks_nonfatal")
    property_protection_file: Path | None = None
    property_protection_rule_format: str = default("property_protection_rule_format")
    # the file's sections, parsed and checked at load (None: no property_protection_file)
    property_protections: tuple[ProtectionRule, ...] | None = None
    enable_image_import: bool = default("enable_image_import")
    uri_filter: FilterOptions = field(default_factory=FilterOptions)
    max_api_download_size: int = default("max_api_download_size")
    upload_url_lifetime: int = default("upload_url_lifetime")  # ours: [direct_upload] url_lifetime
    tokens: dict[str, Caller] = field(default_factory=dict)  # the token_file backend's tokens
    identity_backend: str = default("identity_backend")
    keystone: KeystoneSettings | None = None
    # the template's DevelopmentStack parameter, on the authorizer (None: not told, e.g. a tool or a test)
    development_stack: bool | None = None
    # lifecycle events (notifications/): [oslo_messaging_notifications] driver (noop: none),
    # [DEFAULT] disabled_notifications and default_publisher_id, Glance's options
    notifications_enabled: bool = True
    disabled_notifications: tuple[str, ...] = default("disabled_notifications")
    publisher_id: str = default("publisher_id")
    policy_rules: dict[str, str] = field(default_factory=dict)
    # Glance's multi-store options (settings/stores.py); empty: the one store of a single-store site
    stores: tuple[StoreConfig, ...] = ()
    default_backend: str | None = default("default_backend")
    # Glance's options: show where the data is (locations / direct_url); off by default, as Glance
    show_multiple_locations: bool = default("show_multiple_locations")
    show_image_direct_url: bool = default("show_image_direct_url")
    # quotas (quotas/): Glance's [DEFAULT] use_keystone_limits (the limits are Keystone's, found through
    # [oslo_limit]), else ours: [image_limits] and image-limits.yaml (settings/limits.py); neither: no quotas
    use_keystone_limits: bool = False
    oslo_limit: OsloLimitSettings | None = (
        None  # with use_keystone_limits: which endpoint, who reads (settings/oslo_limit.py)
    )
    configured_limits: ConfiguredLimits | None = None
    sections: Sections = field(default_factory=dict)
    # what start-up warned about (unknown sections and options of the files), also logged
    warnings: tuple[str, ...] = ()

    def section(self, name: str) -> dict[str, ConfValue]:
        return self.sections.get(name, {})

    def value(self, section: str, name: str) -> Any:
        """A declared option's value (settings/options.py), parsed as declared; its default when not set."""
        return read(self.sections, option(section, name))

    @property
    def quotas_enabled(self) -> bool:
        return self.use_keystone_limits or self.configured_limits is not None

    @property
    def multi_store(self) -> bool:
        return bool(self.stores)

    def store(self, store_id: str) -> StoreConfig | None:
        return next((s for s in self.stores if s.id == store_id), None)

    @property
    def default_stores(self) -> list[str]:
        """Where an image with no stores recorded is: the default store (none with one store)."""
        return [self.default_backend] if self.default_backend else []

    def by_weight(self, store_ids) -> list[str]:
        """``store_ids`` heaviest first (Glance 2023.2's order of an image's stores); equal weights keep
        the ``enabled_backends`` order."""
        order = {s.id: (-s.weight, i) for i, s in enumerate(self.stores)}
        return sorted(store_ids, key=lambda s: order.get(s, (0, len(order))))


def load_settings(config_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every operator file in ``config_dir``; raise ConfigError on the first problem.

    ``environ`` (``os.environ`` in a function) may override a few options: ENVIRONMENT_OVERRIDES
    (``settings.environment``).
    """
    config_dir = Path(config_dir)
    sections: Sections = {}
    seen: list[Seen] = []
    import_conf = config_dir / IMPORT_CONF
    if import_conf.exists():
        parse_ini(import_conf, sections, seen)
    api_conf = config_dir / API_CONF
    if not api_conf.exists():
        raise ConfigError(f"{api_conf}: missing (the API configuration file is required)")
    parse_ini(api_conf, sections, seen)
    _keystone_limits_switch_agrees(sections, environ)
    for section, options in option_overrides(environ).items():
        sections.setdefault(section, {}).update(options)

    values: dict = {"config_dir": config_dir, "sections": sections}
    for name, declared in BY_FIELD.items():  # every option that is one field of Settings, as declared
        if declared.name in sections.get(declared.section, {}):
            values[name] = read(sections, declared)
    default_section = sections.get("DEFAULT", {})
    protection_file = read(sections, option("DEFAULT", "property_protection_file"))
    if protection_file:
        item = default_section["property_protection_file"]
        path = config_dir / protection_file
        if not path.exists():
            raise ConfigError(f"{item.where()}: property protection file {path} does not exist")
        values["property_protections"] = load_protections(path, values.get("property_protection_rule_format", "roles"))
        values["property_protection_file"] = path

    values["stores"], values["default_backend"] = load_stores(sections)
    if "copy-image" in values.get("enabled_import_methods", ()) and not values["stores"]:
        item = default_section["enabled_import_methods"]
        raise ConfigError(f"{item.where()}: copy-image copies an image into more stores: it needs enabled_backends")
    values["uri_filter"] = load_uri_filter(sections.get("import_filtering_opts", {}))
    # policy.yaml or policy.json: YAML reads both, as oslo.policy does
    policy_path = config_dir / (read(sections, option("oslo_policy", "policy_file")) or POLICY_FILE)
    values["policy_rules"] = load_policy_file(policy_path)
    if values.get("property_protections") and values.get("property_protection_rule_format") == "policies":
        check_protection_rules(values["property_protections"], values["policy_rules"], policy_path)
    values["tokens"] = load_tokens(config_dir / TOKENS_FILE)
    if values.get("identity_backend") == "keystone":
        values["keystone"] = _keystone_settings(sections, sections["identity"]["backend"])
    values.update(_notification_options(sections))
    values.update(_quota_options(sections, config_dir))
    values["development_stack"] = _deployed_identity_checks(values, sections, environ)
    values["warnings"] = _warn_unknown(seen, values)
    return Settings(**values)


def _warn_unknown(seen: list[Seen], values: dict) -> tuple[str, ...]:
    """Log (and keep) a warning for every section and option of the files that is not declared: a typo
    there would otherwise silently mean the default (oslo.config says nothing either)."""
    stores = [store.id for store in values["stores"]]
    warnings = unknown_names(seen, stores, values.get("image_import_plugins", ()))
    for warning in warnings:
        logger.warning("configuration: %s", warning)
    return tuple(warnings)


def _quota_options(sections: Sections, config_dir: Path) -> dict:
    configured = load_configured_limits(sections, config_dir)
    if not read(sections, option("DEFAULT", "use_keystone_limits")):
        return {"configured_limits": configured}
    item = sections["DEFAULT"]["use_keystone_limits"]
    if configured is not None:
        raise ConfigError(
            f"{item.where()}: use_keystone_limits reads the limits from Keystone: remove [image_limits] and "
            f"{LIMITS_FILE} (they would be ignored)"
        )
    return {"use_keystone_limits": True, "oslo_limit": load_oslo_limit(sections)}  # a bad section stops start-up


KEYSTONE_LIMITS_VARIABLE = "USE_KEYSTONE_LIMITS"


def _keystone_limits_switch_agrees(sections: Sections, environ: Mapping[str, str] | None) -> None:
    """On a deployed stack the template's ``KeystoneLimits`` (``USE_KEYSTONE_LIMITS``) decides, and grants
    the quota checks the Keystone password's read only when on. A file turning the limits on under a stack
    that says off is refused rather than overridden: off would silently leave the quotas unchecked."""
    told = (environ or {}).get(KEYSTONE_LIMITS_VARIABLE)
    item = sections.get("DEFAULT", {}).get("use_keystone_limits")
    if not told or item is None:
        return
    switch = ConfValue(told, Path(f"environment variable {KEYSTONE_LIMITS_VARIABLE}"), 0)
    if parse_bool(item) and not parse_bool(switch):
        raise ConfigError(
            f"{item.where()}: use_keystone_limits = true, but the stack was deployed with KeystoneLimits=false "
            f"({KEYSTONE_LIMITS_VARIABLE}={told}): deploy with KeystoneLimits=true (which also lets the quota "
            "checks read the Keystone password)"
        )


def _notification_options(sections: Sections) -> dict:
    """Glance's switch for notifications. Every driver but ``noop`` means: publish to the stack's bus."""
    if "driver" not in sections.get("oslo_messaging_notifications", {}):
        return {}
    drivers = read(sections, option("oslo_messaging_notifications", "driver"))
    return {"notifications_enabled": bool(drivers) and drivers != ("noop",)}


DEVELOPMENT_STACK_VARIABLE = "DEVELOPMENT_STACK"


def _deployed_identity_checks(values: dict, sections: Sections, environ: Mapping[str, str] | None) -> bool | None:
    """On a deployed stack's authorizer (the template sets DEVELOPMENT_STACK), what only a development
    stack may do: the fixed tokens of local-tokens.yaml, and Keystone over plain http."""
    told = (environ or {}).get(DEVELOPMENT_STACK_VARIABLE)
    if told is None or told == "":
        return None
    development = told.strip().lower() == "true"
    if development:
        return True
    where = f"environment variable {DEVELOPMENT_STACK_VARIABLE}={told}"
    if values.get("identity_backend") == "token_file":
        raise ConfigError(
            f"{where}: TokenBackend=token_file (the fixed development tokens of {TOKENS_FILE}) is refused "
            "on a stack deployed without DevelopmentStack=true"
        )
    keystone = values.get("keystone")
    if keystone is not None and not keystone.auth_url.startswith("https://"):
        raise ConfigError(
            f"{where}: Keystone must be reached over https:// on a deployed stack, got {keystone.auth_url}"
        )
    return False


FILTER_OPTIONS = (
    "allowed_schemes",
    "disallowed_schemes",
    "allowed_hosts",
    "disallowed_hosts",
    "allowed_ports",
    "disallowed_ports",
    "allowed_networks",
)


def load_uri_filter(options: dict[str, ConfValue]) -> FilterOptions:
    """``[import_filtering_opts]``: Glance's six lists and our ``allowed_networks``, as declared."""
    section = {"import_filtering_opts": options}
    values = {name: read(section, option("import_filtering_opts", name)) for name in FILTER_OPTIONS if name in options}
    if "allowed_networks" in values:
        try:
            values["allowed_networks"] = parse_networks(list(values["allowed_networks"]))
        except ValueError as exc:
            raise ConfigError(f"{options['allowed_networks'].where()}: allowed_networks: {exc}") from None
    try:
        return FilterOptions(**values)
    except ValueError as exc:  # a host entry that is no host name
        where = next((options[n].where() for n in ("allowed_hosts", "disallowed_hosts") if n in options), "")
        raise ConfigError(f"{where}: [import_filtering_opts] {exc}") from None


def _keystone_settings(sections: Sections, backend: ConfValue) -> KeystoneSettings:
    """Glance's ``[keystone_authtoken]`` options (keystonemiddleware's names), checked up front."""
    options = sections.get("keystone_authtoken", {})
    url = options.get("auth_url") or options.get("www_authenticate_uri")
    secret_options = [name for name in ("password_secret_arn", "password_parameter") if _given(options, name)]
    if len(secret_options) > 1 or (secret_options and _given(options, "password")):
        given = [name for name in ("password", *secret_options) if _given(options, name)]
        raise ConfigError(f"{backend.where()}: [keystone_authtoken] takes one of {', '.join(given)}, not several")
    missing = [name for name in ("username",) if not _given(options, name)]
    if not secret_options and not _given(options, "password"):
        missing.append("password (or password_secret_arn, password_parameter)")
    if url is None or not url.value:
        missing.insert(0, "auth_url (or www_authenticate_uri)")
    if missing:
        raise ConfigError(f"{backend.where()}: backend = keystone needs [keystone_authtoken] {', '.join(missing)}")
    assert url is not None
    base = url.value.rstrip("/")
    if not base.endswith("/v3"):
        base += "/v3"  # Glance operators usually write the unversioned endpoint
    optional: dict[str, Any] = {
        name: options[name].value or None
        for name in ("project_name", "user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id")
        if name in options
    }
    extra: dict = {}
    for name in ("token_cache_time", "http_connect_timeout"):
        if name in options:
            extra[name] = read(sections, option("keystone_authtoken", name))
    for name in secret_options:
        extra[name] = options[name].value
    password = options["password"].value if _given(options, "password") else None
    return KeystoneSettings(auth_url=base, username=options["username"].value, password=password, **optional, **extra)


def _given(options: dict[str, ConfValue], name: str) -> bool:
    return bool(options.get(name) and options[name].value)


@functools.cache
def _cached_settings(config_dir: str, overrides: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(Path(config_dir), dict(overrides))


def get_settings() -> Settings:
    """The operator settings of this process (read once per config directory and overrides)."""
    return _cached_settings(*settings_source())

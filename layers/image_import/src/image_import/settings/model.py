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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
from image_import.settings.ini import ConfigError, ConfValue, Sections, parse_bool, parse_ini, parse_int, parse_list
from image_import.settings.limits import LIMITS_FILE, ConfiguredLimits, load_configured_limits
from image_import.settings.oslo_limit import OsloLimitSettings, load_oslo_limit
from image_import.settings.stores import StoreConfig, load_stores

GIB = 1024**3
DEFAULT_DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
DEFAULT_CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
SUPPORTED_IMPORT_METHODS = ["glance-direct", "web-download", "copy-image"]
DEFAULT_MAX_API_DOWNLOAD_SIZE = 4 * 1024 * 1024  # base64 of it stays under Lambda's 6 MB response
IDENTITY_BACKENDS = ("token_file", "dynamodb", "keystone")
DEFAULT_UPLOAD_URL_LIFETIME = 900  # seconds a direct-upload URL stays valid: 15 minutes
MAX_PRESIGNED_LIFETIME = 7 * 24 * 3600  # SigV4's limit for a presigned URL


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
    token_cache_time: int = 300  # seconds a validation is reused at most (keystonemiddleware's option)
    http_connect_timeout: float = 5.0
    # ours: where a deployed stack keeps the password instead (read once per sandbox, identity/keystone.py)
    password_secret_arn: str | None = None  # Secrets Manager: the secret string, or its JSON "password"
    password_parameter: str | None = None  # SSM Parameter Store: a SecureString's name or ARN


# A pass also ends when its function's time runs short; the byte bound keeps what a failed pass costs
# (it is read again) small. 16 GiB: at the ~150-300 MiB/s a 2-vCPU function reads and hashes, 55-110 s
# of a 900 s function, so a slow pass still ends on bytes, well inside the timeout.
DEFAULT_MAX_BYTES_PER_PASS = 16 * GIB
MIN_BYTES_PER_PASS = 5 * 1024 * 1024  # S3's smallest multipart part


@dataclass(frozen=True, eq=False)  # hashed by identity: one Settings per process
class Settings:
    """What the operator configured; plugins read their own sections from ``sections``."""

    config_dir: Path
    enabled_import_methods: tuple[str, ...] = ("glance-direct",)
    image_import_plugins: tuple[str, ...] = ()
    image_size_cap: int = 1024 * GIB
    hashing_algorithm: str = "sha512"
    # [image_import_opts] max_bytes_per_pass (ours): the most one pass of a copy moves (transfer/passes.py)
    max_bytes_per_pass: int = DEFAULT_MAX_BYTES_PER_PASS
    public_endpoint: str | None = None
    limit_param_default: int = 25
    image_tag_quota: int = 128  # Glance's option: tags per image (negative: unlimited)
    image_property_quota: int = 128  # Glance's option: extra properties per image (negative: unlimited)
    api_limit_max: int = 1000
    image_member_quota: int = 128  # negative: unlimited (as Glance), within MAX_MEMBERS_PER_IMAGE
    disk_formats: tuple[str, ...] = tuple(DEFAULT_DISK_FORMATS)
    container_formats: tuple[str, ...] = tuple(DEFAULT_CONTAINER_FORMATS)
    # [image_format]: what the format inspection of stored data accepts (transfer/inspection.py)
    require_image_format_match: bool = True
    vmdk_allowed_types: tuple[str, ...] = ("streamOptimized", "monolithicSparse")
    gpt_safety_checks_nonfatal: tuple[str, ...] = ("mbr",)
    property_protection_file: Path | None = None
    property_protection_rule_format: str = "roles"
    # the file's sections, parsed and checked at load (None: no property_protection_file)
    property_protections: tuple[ProtectionRule, ...] | None = None
    enable_image_import: bool = True
    uri_filter: FilterOptions = field(default_factory=FilterOptions)
    max_api_download_size: int = DEFAULT_MAX_API_DOWNLOAD_SIZE
    upload_url_lifetime: int = DEFAULT_UPLOAD_URL_LIFETIME  # ours: [direct_upload] url_lifetime
    tokens: dict[str, Caller] = field(default_factory=dict)  # the token_file backend's tokens
    identity_backend: str = "token_file"
    keystone: KeystoneSettings | None = None
    # the template's DevelopmentStack parameter, on the authorizer (None: not told, e.g. a tool or a test)
    development_stack: bool | None = None
    # lifecycle events (notifications/): [oslo_messaging_notifications] driver (noop: none),
    # [DEFAULT] disabled_notifications and default_publisher_id, Glance's options
    notifications_enabled: bool = True
    disabled_notifications: tuple[str, ...] = ()
    publisher_id: str = "image.localhost"
    policy_rules: dict[str, str] = field(default_factory=dict)
    # Glance's multi-store options (settings/stores.py); empty: the one store of a single-store site
    stores: tuple[StoreConfig, ...] = ()
    default_backend: str | None = None
    # Glance's options: show where the data is (locations / direct_url); off by default, as Glance
    show_multiple_locations: bool = False
    show_image_direct_url: bool = False
    # quotas (quotas/): Glance's [DEFAULT] use_keystone_limits (the limits are Keystone's, found through
    # [oslo_limit]), else ours: [image_limits] and image-limits.yaml (settings/limits.py); neither: no quotas
    use_keystone_limits: bool = False
    oslo_limit: OsloLimitSettings | None = (
        None  # with use_keystone_limits: which endpoint, who reads (settings/oslo_limit.py)
    )
    configured_limits: ConfiguredLimits | None = None
    sections: Sections = field(default_factory=dict)

    def section(self, name: str) -> dict[str, ConfValue]:
        return self.sections.get(name, {})

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
    import_conf = config_dir / IMPORT_CONF
    if import_conf.exists():
        parse_ini(import_conf, sections)
    api_conf = config_dir / API_CONF
    if not api_conf.exists():
        raise ConfigError(f"{api_conf}: missing (the API configuration file is required)")
    parse_ini(api_conf, sections)
    _keystone_limits_switch_agrees(sections, environ)
    for section, options in option_overrides(environ).items():
        sections.setdefault(section, {}).update(options)

    default = sections.get("DEFAULT", {})
    image_format = sections.get("image_format", {})
    import_opts = sections.get("image_import_opts", {})
    values: dict = {"config_dir": config_dir, "sections": sections}

    if "enabled_import_methods" in default:
        item = default["enabled_import_methods"]
        methods = parse_list(item)
        for method in methods:
            if method not in SUPPORTED_IMPORT_METHODS:
                raise ConfigError(
                    f"{item.where()}: import method {method!r} is not supported here "
                    f"(supported: {', '.join(SUPPORTED_IMPORT_METHODS)})"
                )
        values["enabled_import_methods"] = tuple(methods)
    if "max_bytes_per_pass" in import_opts:
        values["max_bytes_per_pass"] = parse_int(import_opts["max_bytes_per_pass"], minimum=MIN_BYTES_PER_PASS)
    if "image_import_plugins" in import_opts:
        values["image_import_plugins"] = tuple(parse_list(import_opts["image_import_plugins"]))
    if "image_size_cap" in default:
        values["image_size_cap"] = parse_int(default["image_size_cap"], minimum=0)
    if "hashing_algorithm" in default:
        values["hashing_algorithm"] = _hash_algorithm(default["hashing_algorithm"])
    if "public_endpoint" in default and default["public_endpoint"].value:
        values["public_endpoint"] = default["public_endpoint"].value.rstrip("/")
    if "limit_param_default" in default:
        values["limit_param_default"] = parse_int(default["limit_param_default"], minimum=1)
    for quota in ("image_tag_quota", "image_property_quota"):
        if quota in default:
            values[quota] = parse_int(default[quota], minimum=-1)
    if "api_limit_max" in default:
        values["api_limit_max"] = parse_int(default["api_limit_max"], minimum=1)
    if "image_member_quota" in default:
        values["image_member_quota"] = parse_int(default["image_member_quota"])
    if "disk_formats" in image_format:
        values["disk_formats"] = tuple(parse_list(image_format["disk_formats"]))
    if "container_formats" in image_format:
        values["container_formats"] = tuple(parse_list(image_format["container_formats"]))
    if "require_image_format_match" in image_format:
        values["require_image_format_match"] = parse_bool(image_format["require_image_format_match"])
    for listed in ("vmdk_allowed_types", "gpt_safety_checks_nonfatal"):
        if listed in image_format:
            values[listed] = tuple(parse_list(image_format[listed]))
    if "property_protection_rule_format" in default:
        item = default["property_protection_rule_format"]
        if item.value not in ("roles", "policies"):
            raise ConfigError(f"{item.where()}: must be 'roles' or 'policies', got {item.value!r}")
        values["property_protection_rule_format"] = item.value
    if default.get("property_protection_file") and default["property_protection_file"].value:
        item = default["property_protection_file"]
        path = config_dir / item.value
        if not path.exists():
            raise ConfigError(f"{item.where()}: property protection file {path} does not exist")
        values["property_protections"] = load_protections(path, values.get("property_protection_rule_format", "roles"))
        values["property_protection_file"] = path

    if "max_api_download_size" in default:
        values["max_api_download_size"] = parse_int(default["max_api_download_size"], minimum=0)
    if "url_lifetime" in sections.get("direct_upload", {}):
        item = sections["direct_upload"]["url_lifetime"]
        values["upload_url_lifetime"] = parse_int(item, minimum=1, maximum=MAX_PRESIGNED_LIFETIME)
    values["stores"], values["default_backend"] = load_stores(sections)
    for shown in ("show_multiple_locations", "show_image_direct_url"):
        if shown in default:
            values[shown] = parse_bool(default[shown])
    if "copy-image" in values.get("enabled_import_methods", ()) and not values["stores"]:
        item = default["enabled_import_methods"]
        raise ConfigError(f"{item.where()}: copy-image copies an image into more stores: it needs enabled_backends")
    values["uri_filter"] = load_uri_filter(sections.get("import_filtering_opts", {}))
    if "enable_image_import" in default:
        values["enable_image_import"] = parse_bool(default["enable_image_import"])
    policy_file = sections.get("oslo_policy", {}).get("policy_file")
    # policy.yaml or policy.json: YAML reads both, as oslo.policy does
    policy_path = config_dir / (policy_file.value if policy_file else POLICY_FILE)
    values["policy_rules"] = load_policy_file(policy_path)
    if values.get("property_protections") and values.get("property_protection_rule_format") == "policies":
        check_protection_rules(values["property_protections"], values["policy_rules"], policy_path)
    values["tokens"] = load_tokens(config_dir / TOKENS_FILE)
    if "backend" in sections.get("identity", {}):
        item = sections["identity"]["backend"]
        if item.value not in IDENTITY_BACKENDS:
            raise ConfigError(
                f"{item.where()}: [identity] backend must be one of {', '.join(IDENTITY_BACKENDS)}, got {item.value!r}"
            )
        values["identity_backend"] = item.value
        if item.value == "keystone":
            values["keystone"] = _keystone_settings(sections.get("keystone_authtoken", {}), item)
    values.update(_notification_options(sections))
    values.update(_quota_options(sections, config_dir))
    values["development_stack"] = _deployed_identity_checks(values, sections, environ)
    return Settings(**values)


def _quota_options(sections: Sections, config_dir: Path) -> dict:
    configured = load_configured_limits(sections, config_dir)
    item = sections.get("DEFAULT", {}).get("use_keystone_limits")
    if item is None or not parse_bool(item):
        return {"configured_limits": configured}
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


NOTIFICATION_DRIVERS = ("noop", "messaging", "messagingv2", "log", "routing")


def _notification_options(sections: Sections) -> dict:
    """Glance's switches for notifications. Every driver but ``noop`` means: publish to the stack's bus."""
    values: dict = {}
    default = sections.get("DEFAULT", {})
    driver = sections.get("oslo_messaging_notifications", {}).get("driver")
    if driver is not None:
        drivers = parse_list(driver)
        for name in drivers:
            if name not in NOTIFICATION_DRIVERS:
                raise ConfigError(
                    f"{driver.where()}: [oslo_messaging_notifications] driver must be one of "
                    f"{', '.join(NOTIFICATION_DRIVERS)}, got {name!r}"
                )
        values["notifications_enabled"] = bool(drivers) and drivers != ["noop"]
    if "disabled_notifications" in default:
        values["disabled_notifications"] = tuple(parse_list(default["disabled_notifications"]))
    if default.get("default_publisher_id") and default["default_publisher_id"].value:
        values["publisher_id"] = default["default_publisher_id"].value
    return values


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


def load_uri_filter(options: dict[str, ConfValue]) -> FilterOptions:
    """``[import_filtering_opts]``: Glance's six lists and our ``allowed_networks``."""
    values: dict = {}
    for name in ("allowed_schemes", "disallowed_schemes", "allowed_hosts", "disallowed_hosts"):
        if name in options:
            values[name] = tuple(parse_list(options[name]))
    for name in ("allowed_ports", "disallowed_ports"):
        if name in options:
            ports = []
            for text in parse_list(options[name]):
                if not text.isdigit() or not 1 <= int(text) <= 65535:
                    raise ConfigError(f"{options[name].where()}: {name} must hold ports 1-65535, got {text!r}")
                ports.append(int(text))
            values[name] = tuple(ports)
    if "allowed_networks" in options:
        try:
            values["allowed_networks"] = parse_networks(parse_list(options["allowed_networks"]))
        except ValueError as exc:
            raise ConfigError(f"{options['allowed_networks'].where()}: allowed_networks: {exc}") from None
    try:
        return FilterOptions(**values)
    except ValueError as exc:  # a host entry that is no host name
        where = next((options[n].where() for n in ("allowed_hosts", "disallowed_hosts") if n in options), "")
        raise ConfigError(f"{where}: [import_filtering_opts] {exc}") from None


def _keystone_settings(options: dict[str, ConfValue], backend: ConfValue) -> KeystoneSettings:
    """Glance's ``[keystone_authtoken]`` options (keystonemiddleware's names), checked up front."""
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
    optional = {
        name: options[name].value or None
        for name in ("project_name", "user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id")
        if name in options
    }
    extra: dict = {}
    if "token_cache_time" in options:
        extra["token_cache_time"] = parse_int(options["token_cache_time"], minimum=0)
    if "http_connect_timeout" in options:
        extra["http_connect_timeout"] = float(parse_int(options["http_connect_timeout"], minimum=1))
    for name in secret_options:
        extra[name] = options[name].value
    password = options["password"].value if _given(options, "password") else None
    return KeystoneSettings(auth_url=base, username=options["username"].value, password=password, **optional, **extra)


def _given(options: dict[str, ConfValue], name: str) -> bool:
    return bool(options.get(name) and options[name].value)


def _hash_algorithm(item: ConfValue) -> str:
    import hashlib

    name = item.value.strip()
    if name not in hashlib.algorithms_available:
        raise ConfigError(f"{item.where()}: unknown hashing_algorithm {name!r}")
    return name


@functools.cache
def _cached_settings(config_dir: str, overrides: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(Path(config_dir), dict(overrides))


def get_settings() -> Settings:
    """The operator settings of this process (read once per config directory and overrides)."""
    return _cached_settings(*settings_source())

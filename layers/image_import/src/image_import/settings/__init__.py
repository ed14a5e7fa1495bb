"""Operator configuration, read once from Glance's own files in one directory.

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
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from image_import.policy.uri_filter import FilterOptions, parse_networks

API_CONF = "glance-api.conf"
IMPORT_CONF = "glance-image-import.conf"
POLICY_FILE = "policy.yaml"
TOKENS_FILE = "local-tokens.yaml"

GIB = 1024**3
DEFAULT_DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
DEFAULT_CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
SUPPORTED_IMPORT_METHODS = ["glance-direct", "web-download"]
DEFAULT_MAX_API_DOWNLOAD_SIZE = 4 * 1024 * 1024  # base64 of it stays under Lambda's 6 MB response
IDENTITY_BACKENDS = ("token_file", "dynamodb", "keystone")


class ConfigError(Exception):
    """A configuration file is missing, malformed or holds an invalid value."""


@dataclass(frozen=True)
class ConfValue:
    value: str
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


Sections = dict[str, dict[str, ConfValue]]

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]\s?(?P<value>.*)$")


def parse_ini(path: Path, into: Sections | None = None) -> Sections:
    """Parse an oslo.config-style INI file, keeping the line of every value (for error messages)."""
    sections: Sections = into if into is not None else {}
    current: str | None = None
    last: tuple[str, str] | None = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0] in " \t" and last is not None:
            # oslo.config continuation line: appended to the previous value
            section, key = last
            previous = sections[section][key]
            sections[section][key] = ConfValue(previous.value + "\n" + stripped, previous.path, previous.line)
            continue
        if match := _SECTION.match(stripped):
            current = match["name"].strip()
            sections.setdefault(current, {})
            last = None
            continue
        if current is None:
            raise ConfigError(f"{path}:{number}: option outside any [section]: {stripped!r}")
        if not (match := _OPTION.match(stripped)):
            raise ConfigError(f"{path}:{number}: expected 'name = value' or '[section]', got {stripped!r}")
        key = match["key"].strip()
        sections[current][key] = ConfValue(match["value"].strip(), path, number)
        last = (current, key)
    return sections


def parse_list(item: ConfValue) -> list[str]:
    """oslo ListOpt: comma separated, optionally in [brackets], items optionally quoted."""
    text = item.value.strip()
    if text.startswith("["):
        if not text.endswith("]"):
            raise ConfigError(f"{item.where()}: list value must end with ']': {item.value!r}")
        text = text[1:-1]
    return [_unquote(part.strip()) for part in text.split(",") if part.strip()]


def parse_dict(item: ConfValue) -> dict[str, str]:
    """oslo DictOpt (``k1:v1,k2:v2``), with surrounding quotes stripped from keys and values.

    Glance's own admin guide shows ``"property1":"value1"``; oslo.config keeps those quotes in
    the key and value, which silently injects a property literally named ``"property1"``.
    We accept both spellings and mean the same thing by them.
    """
    result: dict[str, str] = {}
    pending = ""
    for piece in item.value.split(","):
        piece = pending + piece
        if ":" not in piece:
            # like oslo.config: a piece without ':' belongs with the next piece
            pending = piece + ","
            continue
        pending = ""
        key, value = (_unquote(part.strip()) for part in piece.split(":", 1))
        if not key:
            raise ConfigError(f"{item.where()}: empty key in {item.value!r}")
        if key in result:
            raise ConfigError(f"{item.where()}: duplicate key {key!r}")
        result[key] = value
    if pending.strip(", "):
        raise ConfigError(f"{item.where()}: expected 'key:value' pairs, got {pending.rstrip(',')!r}")
    return result


def parse_bool(item: ConfValue) -> bool:
    value = item.value.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{item.where()}: expected true or false, got {item.value!r}")


def parse_int(item: ConfValue, minimum: int | None = None) -> int:
    try:
        number = int(item.value.strip())
    except ValueError:
        raise ConfigError(f"{item.where()}: expected an integer, got {item.value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{item.where()}: must be at least {minimum}, got {number}")
    return number


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


@dataclass(frozen=True)
class DevIdentity:
    user_id: str
    project_id: str
    roles: tuple[str, ...]
    # a service presenting this token too (Glance: X-Service-Roles and the service user)
    service_roles: tuple[str, ...] = ()
    service_user_id: str | None = None


@dataclass(frozen=True)
class KeystoneSettings:
    """``[keystone_authtoken]``: where Keystone is and the service user that validates tokens."""

    auth_url: str  # ends in /v3
    username: str
    password: str
    project_name: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    token_cache_time: int = 300  # seconds a validation is reused at most (keystonemiddleware's option)
    http_connect_timeout: float = 5.0


@dataclass(frozen=True, eq=False)  # hashed by identity: one Settings per process
class Settings:
    """What the operator configured; plugins read their own sections from ``sections``."""

    config_dir: Path
    enabled_import_methods: tuple[str, ...] = ("glance-direct",)
    image_import_plugins: tuple[str, ...] = ()
    image_size_cap: int = 1024 * GIB
    hashing_algorithm: str = "sha512"
    public_endpoint: str | None = None
    limit_param_default: int = 25
    image_tag_quota: int = 128  # Glance's option: tags per image (negative: unlimited)
    image_property_quota: int = 128  # Glance's option: extra properties per image (negative: unlimited)
    api_limit_max: int = 1000
    image_member_quota: int = 128  # negative: unlimited (as Glance), within MAX_MEMBERS_PER_IMAGE
    disk_formats: tuple[str, ...] = tuple(DEFAULT_DISK_FORMATS)
    container_formats: tuple[str, ...] = tuple(DEFAULT_CONTAINER_FORMATS)
    property_protection_file: Path | None = None
    property_protection_rule_format: str = "roles"
    enable_image_import: bool = True
    uri_filter: FilterOptions = field(default_factory=FilterOptions)
    max_api_download_size: int = DEFAULT_MAX_API_DOWNLOAD_SIZE
    tokens: dict[str, DevIdentity] = field(default_factory=dict)
    identity_backend: str = "token_file"
    keystone: KeystoneSettings | None = None
    policy_rules: dict[str, str] = field(default_factory=dict)
    sections: Sections = field(default_factory=dict)

    def section(self, name: str) -> dict[str, ConfValue]:
        return self.sections.get(name, {})


# Environment variables that override an option of the files: (variable, section, option). The
# template sets them from its parameters, so an operator switches these without editing files.
ENVIRONMENT_OVERRIDES = (
    ("IDENTITY_BACKEND", "identity", "backend"),
    ("KEYSTONE_AUTH_URL", "keystone_authtoken", "auth_url"),
)


def load_settings(config_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every operator file in ``config_dir``; raise ConfigError on the first problem.

    ``environ`` (``os.environ`` in a function) may override a few options: ENVIRONMENT_OVERRIDES.
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
    for variable, section, option in ENVIRONMENT_OVERRIDES:
        if (environ or {}).get(variable):
            where = Path(f"environment variable {variable}")
            sections.setdefault(section, {})[option] = ConfValue(environ[variable], where, 0)

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
        validate_protections(path, values.get("property_protection_rule_format", "roles"))
        values["property_protection_file"] = path

    if "max_api_download_size" in default:
        values["max_api_download_size"] = parse_int(default["max_api_download_size"], minimum=0)
    values["uri_filter"] = load_uri_filter(sections.get("import_filtering_opts", {}))
    if "enable_image_import" in default:
        values["enable_image_import"] = parse_bool(default["enable_image_import"])
    policy_file = sections.get("oslo_policy", {}).get("policy_file")
    # policy.yaml or policy.json: YAML reads both, as oslo.policy does
    values["policy_rules"] = load_policy_file(config_dir / (policy_file.value if policy_file else POLICY_FILE))
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
    return Settings(**values)


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
    return FilterOptions(**values)


def _keystone_settings(options: dict[str, ConfValue], backend: ConfValue) -> KeystoneSettings:
    """Glance's ``[keystone_authtoken]`` options (keystonemiddleware's names), checked up front."""
    url = options.get("auth_url") or options.get("www_authenticate_uri")
    missing = [name for name in ("username", "password") if not (options.get(name) and options[name].value)]
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
    return KeystoneSettings(
        auth_url=base, username=options["username"].value, password=options["password"].value, **optional, **extra
    )


def _hash_algorithm(item: ConfValue) -> str:
    import hashlib

    name = item.value.strip()
    if name not in hashlib.algorithms_available:
        raise ConfigError(f"{item.where()}: unknown hashing_algorithm {name!r}")
    return name


def validate_protections(path: Path, rule_format: str = "roles") -> Sections:
    """Check a property-protections file the way Glance does at start-up (it refuses to start otherwise)."""
    sections = parse_ini(path)
    for name, options in sections.items():
        if name == "DEFAULT":
            continue
        first_line = min((v.line for v in options.values()), default=0)
        try:
            re.compile(name)
        except re.error as exc:
            raise ConfigError(
                f"{path}:{max(first_line - 1, 1)}: section [{name}] is not a valid regular expression: {exc}"
            ) from None
        for operation in ("create", "read", "update", "delete"):
            if operation not in options:
                raise ConfigError(f"{path}: section [{name}] lacks the '{operation}' option")
            roles = [r.strip() for r in options[operation].value.split(",")]
            if "@" in roles and "!" in roles:
                raise ConfigError(f"{options[operation].where()}: '@' and '!' cannot be used together")
            if rule_format == "policies" and len(roles) > 1:
                raise ConfigError(f"{options[operation].where()}: the policies format takes one rule name, not a list")
    return sections


def _yaml_error(path: Path, exc: Exception) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(f"{path}{line}: invalid YAML: {problem}")


def _load_yaml_mapping(path: Path) -> tuple[dict, dict[str, int]]:
    """Load a YAML mapping and the line of each top-level key."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}:1: expected a mapping at the top level")
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    return data, lines


def load_policy_file(path: Path) -> dict[str, str]:
    """Rule name -> check string. Missing file means Glance's defaults."""
    if not path.exists():
        return {}
    data, lines = _load_yaml_mapping(path)
    for name, rule in data.items():
        if not isinstance(name, str) or not isinstance(rule, str):
            raise ConfigError(f"{path}:{lines.get(name, 1)}: rule {name!r} must map a name to a check string")
    return data


def load_tokens(path: Path) -> dict[str, DevIdentity]:
    """Development bearer tokens: ``<token>: {user_id, project_id, roles: [..]}``."""
    if not path.exists():
        return {}
    data, lines = _load_yaml_mapping(path)
    tokens: dict[str, DevIdentity] = {}
    for token, entry in data.items():
        where = f"{path}:{lines.get(token, 1)}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: token {token!r} must map to user_id, project_id and roles")
        missing = {"user_id", "project_id", "roles"} - entry.keys()
        if missing:
            raise ConfigError(f"{where}: token {token!r} lacks {', '.join(sorted(missing))}")
        roles = _role_list(entry["roles"], where, token)
        service_roles = _role_list(entry.get("service_roles", []), where, token)
        service_user = entry.get("service_user_id")
        tokens[str(token)] = DevIdentity(
            str(entry["user_id"]),
            str(entry["project_id"]),
            roles,
            service_roles,
            str(service_user) if service_user is not None else None,
        )
    return tokens


def _role_list(roles, where: str, token: str) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ConfigError(f"{where}: roles of token {token!r} must be a list of names")
    return tuple(r.lower() for r in roles)


@functools.cache
def _cached_settings(config_dir: str, overrides: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(Path(config_dir), dict(overrides))


def get_settings() -> Settings:
    """The operator settings of this process (read once per config directory and overrides)."""
    overrides = tuple((name, os.environ.get(name, "")) for name, _, _ in ENVIRONMENT_OVERRIDES)
    return _cached_settings(os.environ.get("IMAGE_IMPORT_CONFIG_DIR", "/opt"), overrides)


@dataclass(frozen=True)
class Resources:
    """Names of the AWS resources this function works with, from its environment."""

    images_table: str
    tasks_table: str
    staging_bucket: str
    store_bucket: str
    state_machine_arn: str | None = None
    tokens_table: str | None = None  # the dynamodb identity backend's table


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
        )
    except KeyError as exc:
        raise ConfigError(f"environment variable {exc.args[0]} is not set") from None

"""Every option of the INI files, declared once: section, name, type, default, bounds, help.

The parser (``parse_option``), the defaults of :class:`~image_import.settings.model.Settings`, the
environment overrides (``settings.environment``), the unknown-name warnings (``unknown_names``) and the
reference tables of ``docs/configuration.md`` (``python -m image_import_dev.options``) all read
``OPTIONS``. Plain dataclasses, not pydantic: the authorizer loads the settings on its first request
and never imports pydantic.

Declared options whose ``field`` is None are read by their own loader (the stores, the identity and
quota sections, the built-in plugins) from ``Settings.sections``; their declaration still documents
them, names them to the unknown-name check and, where the loader calls ``parse_option``, parses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from image_import.settings.ini import ConfigError, ConfValue, Sections, Seen, parse_bool, parse_dict, parse_list

API_CONF = "glance-api.conf"
IMPORT_CONF = "glance-image-import.conf"
STORE_SECTION = "<store id>"  # one section per store named in enabled_backends
GIB = 1024**3
MIB = 1024**2

Kind = Literal["str", "int", "float", "bool", "list", "int list", "dict"]


@dataclass(frozen=True)
class Option:
    section: str
    name: str
    kind: Kind
    default: Any  # the parsed value when the option is not set (None: unset)
    help: str
    file: str = API_CONF  # the shipped file it is documented in (either file is read)
    field: str | None = None  # the Settings field it fills; None: read by its own loader
    glance: bool = True  # Glance has this option (same section and name); False: ours
    minimum: int | None = None  # an int's (or each item's of an int list)
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # a str's (or each item's of a list)
    blank_is_unset: bool = False  # ``name =`` means the default
    check: Callable[[Any], Any] | None = None  # normalises the parsed value, or raises ValueError(why)
    environment: str | None = None  # the variable that overrides it (set from a template parameter)
    parameter: str | None = None  # that template parameter
    shown_default: str | None = None  # the default as the docs show it, when the value reads badly
    items: str = "numbers"  # what an int list holds (named in its errors)

    @property
    def label(self) -> str:
        return f"[{self.section}] {self.name}"


def _hash_algorithm(name: str) -> str:
    import hashlib

    if name not in hashlib.algorithms_available:
        raise ValueError(f"unknown hashing algorithm {name!r}")
    return name


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


_DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
_CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
IMPORT_METHODS = ("glance-direct", "web-download", "copy-image")
IDENTITY_BACKENDS = ("token_file", "dynamodb", "keystone")
NOTIFICATION_DRIVERS = ("noop", "messaging", "messagingv2", "log", "routing")
INTERFACES = ("public", "publicURL", "internal", "internalURL", "admin", "adminURL")  # oslo.limit's
AUTH_TYPES = ("password", "v3password")  # the keystoneauth plugins we speak: the password method
MIN_BYTES_PER_PASS = 5 * MIB  # S3's smallest multipart part
MAX_PRESIGNED_LIFETIME = 7 * 24 * 3600  # SigV4's limit for a presigned URL

_D, _F, _I = "DEFAULT", "image_format", "import_filtering_opts"
_K, _L = "keystone_authtoken", "oslo_limit"

OPTIONS: tuple[Option, ...] = (
    # --- glance-api.conf [DEFAULT]
    Option(_D, "enabled_import_methods", "list", ("glance-direct",), field="enabled_import_methods",
           choices=IMPORT_METHODS, shown_default="[glance-direct] (shipped file: [glance-direct, web-download])",
           help="import methods offered (`GET /v2/info/import`, the `OpenStack-image-import-methods` header): "
                "`glance-direct`, `web-download`, `copy-image` (needs `enabled_backends`)"),
    Option(_D, "show_multiple_locations", "bool", False, field="show_multiple_locations",
           help="show `locations` (`s3://bucket/images/<id>`, with `metadata.store`)"),
    Option(_D, "show_image_direct_url", "bool", False, field="show_image_direct_url",
           help="show `direct_url` (`s3://bucket/images/<id>`)"),
    Option(_D, "max_api_download_size", "int", 4 * MIB, field="max_api_download_size", glance=False, minimum=0,
           shown_default="4194304 (4 MiB)",
           help="`GET /v2/images/{id}/file` answers (or ranges) up to this size stream through the API; larger "
                "ones are a 303 to a presigned S3 URL valid 5 minutes. Lambda answers at most 6 MB, "
                "base64-encoded: keep it at or below ~4 MiB"),
    Option(_D, "image_size_cap", "int", 1024 * GIB, field="image_size_cap", minimum=0,
           shown_default="1099511627776 (1 TiB)",
           help="largest image in bytes; staging beyond it is 413, an import beyond it fails"),
    Option(_D, "hashing_algorithm", "str", "sha512", field="hashing_algorithm", check=_hash_algorithm,
           help="digest recorded as `os_hash_algo`/`os_hash_value` (any hashlib name)"),
    Option(_D, "public_endpoint", "str", None, field="public_endpoint", blank_is_unset=True, check=_strip_slash,
           help="base URL for version documents and `Location` headers; unset: taken from the request"),
    Option(_D, "image_tag_quota", "int", 128, field="image_tag_quota", minimum=-1,
           help="most tags an image may carry (negative: unlimited); beyond it 413"),
    Option(_D, "image_property_quota", "int", 128, field="image_property_quota", minimum=-1,
           help="most extra properties a user may set on an image, on create and PATCH (negative: unlimited); "
                "beyond it 413. The service's `os_glance_*` bookkeeping does not count"),
    Option(_D, "limit_param_default", "int", 25, field="limit_param_default", minimum=1,
           help="default page size of `GET /v2/images` (and of the tasks and metadef namespace lists)"),
    Option(_D, "api_limit_max", "int", 1000, field="api_limit_max", minimum=1,
           help="maximum page size of the same lists; a page also ends before 5 MiB of response, whatever "
                "the limit"),
    Option(_D, "image_member_quota", "int", 128, field="image_member_quota",
           help="most members of one image (413 beyond); negative is unlimited, here at most 500 (members "
                "live on the image's DynamoDB item)"),
    Option(_D, "enable_image_import", "bool", True, field="enable_image_import",
           help="the import gate: `false` hides the versions that carry import from `/versions`, and "
                "`stage`, `import` and `/v2/info/import` answer 404 as an API without import would"),
    Option(_D, "property_protection_file", "str", None, blank_is_unset=True,
           shown_default="unset (shipped file: property-protections.conf)",
           help="Glance's property-protections file, in the configuration directory; unset: no protections. "
                "A file that does not parse stops the service"),
    Option(_D, "property_protection_rule_format", "str", "roles", field="property_protection_rule_format",
           choices=("roles", "policies"), help="the format of the property-protections file"),
    Option(_D, "enabled_backends", "dict", None, shown_default="unset (one store)",
           help="Glance's multi-store: `id:s3` pairs, e.g. `fast:s3, cheap:s3, edge:s3`; each store is an S3 "
                "bucket. Unset: the stack's one store bucket, exactly as a single-store Glance "
                "(`/v2/info/stores` 404)"),
    Option(_D, "use_keystone_limits", "bool", False, environment="USE_KEYSTONE_LIMITS", parameter="KeystoneLimits",
           help="quotas (`image_size_total`, `image_stage_total`, `image_count_total`, `image_count_uploading`) "
                "from Keystone's unified limits, found through `[oslo_limit]`. The quota checks' functions "
                "get it from the template; a file that turns it on under a stack that says off stops start-up"),
    Option(_D, "disabled_notifications", "list", (), field="disabled_notifications",
           help="lifecycle events not published: event types (`image.create`), Glance's groups (`image`, "
                "`image.member`, `task`) and, ours, patterns (`image.*`, `task.s*`)"),
    Option(_D, "default_publisher_id", "str", "image.localhost", field="publisher_id", blank_is_unset=True,
           help="the notification envelope's `publisher_id`"),
    # --- [glance_store] and the stores' sections
    Option("glance_store", "default_backend", "str", None, field="default_backend",
           help="with `enabled_backends`: the store an import without `stores` goes to (required, one of "
                "the ids)"),
    Option(STORE_SECTION, "s3_store_bucket", "str", None, shown_default="the stack's store bucket",
           help="the store's bucket; only the default store may leave it unset (it is then the template's "
                "store bucket); two stores never share a bucket"),
    Option(STORE_SECTION, "s3_store_region_name", "str", None, shown_default="the functions' region",
           help="the store's bucket's region"),
    Option(STORE_SECTION, "store_description", "str", None, help="shown by `GET /v2/info/stores`"),
    Option(STORE_SECTION, "weight", "int", 0,
           help="an image's `stores` are listed heaviest first (Glance 2023.2's store weights)"),
    # --- [identity] and [keystone_authtoken]
    Option("identity", "backend", "str", "token_file", field="identity_backend", glance=False,
           choices=IDENTITY_BACKENDS, environment="IDENTITY_BACKEND", parameter="TokenBackend",
           help="how the authorizer checks tokens: `token_file` (`local-tokens.yaml`), `dynamodb` (the "
                "`TokensTable`), `keystone` (`[keystone_authtoken]`). On AWS the template parameter "
                "`TokenBackend` (default `dynamodb`) wins; the local stack follows this option"),
    Option(_K, "auth_url", "str", None, environment="KEYSTONE_AUTH_URL", parameter="KeystoneUrl",
           help="Keystone, for `backend = keystone`; `/v3` is added to an unversioned URL"),
    Option(_K, "www_authenticate_uri", "str", None, help="read when `auth_url` is not set"),
    Option(_K, "username", "str", None,
           help="the service user (role `service`) that validates tokens; required with `backend = keystone`"),
    Option(_K, "password", "str", None,
           help="its password (or `password_secret_arn`, or `password_parameter`: one of the three)"),
    Option(_K, "project_name", "str", None, help="the service user's project"),
    Option(_K, "user_domain_name", "str", None, help="the service user's domain (or `user_domain_id`)"),
    Option(_K, "user_domain_id", "str", None, help="the service user's domain id"),
    Option(_K, "project_domain_name", "str", None, help="the project's domain (or `project_domain_id`)"),
    Option(_K, "project_domain_id", "str", None, help="the project's domain id"),
    Option(_K, "token_cache_time", "int", 300, minimum=0,
           help="seconds a Keystone validation is reused at most (never past the token's expiry)"),
    Option(_K, "http_connect_timeout", "float", 5.0, minimum=1, shown_default="5",
           help="Keystone request timeout, in seconds"),
    Option(_K, "password_secret_arn", "str", None, glance=False, environment="KEYSTONE_PASSWORD_SECRET_ARN",
           parameter="KeystonePasswordSecretArn",
           help="instead of `password`, a Secrets Manager secret ARN holding it (the secret string, or its "
                "JSON `password`); the template parameter also grants the functions the read"),
    Option(_K, "password_parameter", "str", None, glance=False, environment="KEYSTONE_PASSWORD_PARAMETER",
           parameter="KeystonePasswordParameter",
           help="instead of `password`, an SSM SecureString's name or ARN holding it; the template parameter "
                "also grants the functions the read"),
    # --- [oslo_limit] (with use_keystone_limits; settings/oslo_limit.py)
    Option(_L, "endpoint_id", "str", None, help="the Keystone endpoint the limits belong to"),
    Option(_L, "endpoint_service_type", "str", None, help="or: the endpoint's service type"),
    Option(_L, "endpoint_service_name", "str", None, help="or: the endpoint's service name"),
    Option(_L, "endpoint_region_name", "str", None, help="with the service type or name: its region"),
    Option(_L, "endpoint_interface", "str", "public",
           choices=INTERFACES,
           help="with the service type or name: its interface"),
    Option(_L, "auth_type", "str", "password", choices=AUTH_TYPES,
           help="the keystoneauth plugin: the password method"),
    Option(_L, "auth_url", "str", None,
           help="Keystone, for the user that reads the limits; without `username` here, the "
                "`[keystone_authtoken]` service user reads them"),
    Option(_L, "www_authenticate_uri", "str", None, help="read when `auth_url` is not set"),
    Option(_L, "username", "str", None, help="the user that reads the limits"),
    Option(_L, "password", "str", None, help="its password (or `password_secret_arn`, `password_parameter`)"),
    Option(_L, "password_secret_arn", "str", None, glance=False, help="instead of `password`, a Secrets Manager secret holding it"),
    Option(_L, "password_parameter", "str", None, glance=False, help="instead of `password`, an SSM SecureString holding it"),
    Option(_L, "user_domain_id", "str", None, help="the user's domain id"),
    Option(_L, "user_domain_name", "str", None, help="the user's domain"),
    Option(_L, "system_scope", "str", None, choices=("all",), help="`all`: a system-scoped token"),
    Option(_L, "project_name", "str", None, help="or: a project-scoped token's project"),
    Option(_L, "project_domain_id", "str", None, help="the project's domain id"),
    Option(_L, "project_domain_name", "str", None, help="the project's domain"),
    Option(_L, "timeout", "int", None, minimum=1, help="Keystone request timeout, in seconds (keystoneauth's)"),
    Option(_L, "http_connect_timeout", "int", 5, minimum=1, help="read when `timeout` is not set"),
    # --- [image_limits] (settings/limits.py)
    *(
        Option("image_limits", name, "int", -1, glance=False, minimum=-1, shown_default="unset (unlimited)",
               help=f"without Keystone limits: every project's `{name}` ({what}); `-1` or unset is unlimited. "
                    "`image-limits.yaml` beside the file overrides it per project")
        for name, what in (
            ("image_size_total", "MiB of stored data"),
            ("image_stage_total", "MiB of staged data"),
            ("image_count_total", "number of images"),
            ("image_count_uploading", "number of uploads under way"),
        )
    ),
    # --- notifications and policy
    Option("oslo_messaging_notifications", "driver", "list", ("messaging",), choices=NOTIFICATION_DRIVERS,
           help="`noop` publishes no lifecycle events; any other of Glance's drivers publishes them to the "
                "stack's bus. Glance's own default is `noop`"),
    Option("oslo_policy", "policy_file", "str", "policy.yaml",
           help="the oslo.policy rules file (YAML or JSON) in the configuration directory"),
    # --- [image_format]
    Option(_F, "disk_formats", "list", _DISK_FORMATS, field="disk_formats", shown_default="Glance's list",
           help="values accepted for `disk_format`"),
    Option(_F, "container_formats", "list", _CONTAINER_FORMATS, field="container_formats",
           shown_default="Glance's list", help="values accepted for `container_format`"),
    Option(_F, "require_image_format_match", "bool", True, field="require_image_format_match",
           help="data whose detected format is not its `disk_format` fails the import (PUT /file: 415). "
                "`false` lets a mismatch through without a `virtual_size`; the safety checks of what was "
                "detected still run"),
    Option(_F, "vmdk_allowed_types", "list", ("streamOptimized", "monolithicSparse"), field="vmdk_allowed_types",
           help="VMDK create types that may be stored (case-insensitive; empty: no VMDK at all)"),
    Option(_F, "gpt_safety_checks_nonfatal", "list", ("mbr",), field="gpt_safety_checks_nonfatal",
           help="safety checks that only log when the data is detected as GPT/MBR (empty: an MBR that breaks "
                "the rules fails the import)"),
    # --- [import_filtering_opts] (load_uri_filter)
    Option(_I, "allowed_schemes", "list", ("http", "https"),
           help="scheme allow-list (only http and https can be fetched at all)"),
    Option(_I, "disallowed_schemes", "list", (), help="scheme deny-list (ignored when `allowed_schemes` is set)"),
    Option(_I, "allowed_hosts", "list", (), help="host names or IP literals (IPs compared in canonical form)"),
    Option(_I, "disallowed_hosts", "list", (), help="host deny-list (ignored when `allowed_hosts` is set)"),
    Option(_I, "allowed_ports", "int list", (80, 443), minimum=1, maximum=65535, items="ports",
           help="checked only when the URI names a port"),
    Option(_I, "disallowed_ports", "int list", (), minimum=1, maximum=65535, items="ports",
           help="port deny-list (ignored when `allowed_ports` is set)"),
    Option(_I, "allowed_networks", "list", (), glance=False,
           help="special-purpose networks (CIDR) that may nevertheless be fetched from, e.g. `[10.20.0.0/16]` "
                "for an internal mirror"),
    # --- glance-image-import.conf
    Option("image_import_opts", "image_import_plugins", "list", (), file=IMPORT_CONF, field="image_import_plugins",
           help="plugins run, in this order, between \"verify staging\" and \"import to store\". After changing "
                "it run `make render` (the local stack follows it by itself). An unknown name stops start-up "
                "and `make render`"),
    Option("image_import_opts", "max_bytes_per_pass", "int", 16 * GIB, file=IMPORT_CONF, field="max_bytes_per_pass",
           glance=False, minimum=MIN_BYTES_PER_PASS, shown_default="17179869184 (16 GiB)",
           help="the most one pass of a copy moves (the store copy and web-download run in passes, one "
                "function call each). A pass also ends before its function's timeout; a failed pass is retried "
                "from where the previous one ended, so this is also what a failure costs at most"),
    Option("image_conversion", "output_format", "str", "raw", file=IMPORT_CONF, blank_is_unset=True,
           help="the `image_conversion` plugin's target format"),
    Option("inject_metadata_properties", "ignore_user_roles", "list", ("admin",), file=IMPORT_CONF,
           help="imports by users with any of these roles get nothing injected"),
    Option("inject_metadata_properties", "inject", "dict", None, file=IMPORT_CONF, shown_default="empty",
           blank_is_unset=True,
           help="properties set on imported images: `k1:v1,k2:v2`, or Glance's documented `\"k1\":\"v1\"` "
                "(the quotes are stripped; Glance would keep them in the names)"),
    Option("direct_upload", "url_lifetime", "int", 900, file=IMPORT_CONF, field="upload_url_lifetime", glance=False,
           minimum=1, maximum=MAX_PRESIGNED_LIFETIME, shown_default="900 (15 minutes)",
           help="seconds a direct-upload URL (`POST /v2/images/{id}/upload-urls`) stays valid (SigV4 signs "
                "for at most 7 days)"),
)  # fmt: skip

BY_NAME: dict[tuple[str, str], Option] = {(o.section, o.name): o for o in OPTIONS}
BY_FIELD: dict[str, Option] = {o.field: o for o in OPTIONS if o.field}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(o.section for o in OPTIONS))


def option(section: str, name: str) -> Option:
    return BY_NAME[(section, name)]


def default(field: str) -> Any:
    """The default of the Settings field ``field`` (its option's)."""
    return BY_FIELD[field].default


def parse_option(declared: Option, item: ConfValue) -> Any:
    """``item`` read as ``declared`` says; ConfigError naming the file, line and option when it is not."""
    text = item.value.strip()
    if declared.blank_is_unset and not text:
        return declared.default
    value: Any
    if declared.kind == "bool":
        try:
            value = parse_bool(item)
        except ConfigError:
            raise _bad(declared, item, f"must be true or false, got {item.value!r}") from None
    elif declared.kind in ("int", "float"):
        value = _number(declared, item, text)
        value = float(value) if declared.kind == "float" else value
    elif declared.kind == "list":
        value = tuple(parse_list(item))
        for entry in value:
            _choose(declared, item, entry)
    elif declared.kind == "int list":
        value = tuple(_number(declared, item, entry, each=True) for entry in parse_list(item))
    elif declared.kind == "dict":
        value = parse_dict(item)
    else:
        value = _choose(declared, item, text)
    if declared.check is not None:
        try:
            value = declared.check(value)
        except ValueError as exc:
            raise _bad(declared, item, str(exc)) from None
    return value


def read(sections: Sections, declared: Option) -> Any:
    """The option's value in ``sections`` (parsed), or its default."""
    item = sections.get(declared.section, {}).get(declared.name)
    return declared.default if item is None else parse_option(declared, item)


def _number(declared: Option, item: ConfValue, text: str, each: bool = False) -> int:
    low, high = declared.minimum, declared.maximum
    try:
        number = int(text)
    except ValueError:
        problem = f"must hold {declared.items} {low}-{high}" if each else "must be an integer"
        raise _bad(declared, item, f"{problem}, got {text!r}") from None
    if each and ((low is not None and number < low) or (high is not None and number > high)):
        raise _bad(declared, item, f"must hold {declared.items} {low}-{high}, got {number}")
    if low is not None and number < low:
        raise _bad(declared, item, f"must be at least {low}, got {number}")
    if high is not None and number > high:
        raise _bad(declared, item, f"must be at most {high}, got {number}")
    return number


def _choose(declared: Option, item: ConfValue, text: str) -> str:
    if declared.choices and text not in declared.choices:
        raise _bad(declared, item, f"must be one of {', '.join(declared.choices)}, got {text!r}")
    return text


def _bad(declared: Option, item: ConfValue, problem: str) -> ConfigError:
    return ConfigError(f"{item.where()}: {declared.label} {problem}")


def unknown_names(seen: Iterable[Seen], store_ids: Iterable[str] = (), plugin_names: Iterable[str] = ()) -> list[str]:
    """A warning for every section and option of the files that no declaration knows, naming the file, the
    line and the closest known name. Sections of the stores (``enabled_backends``) take the stores' options;
    a section named after a configured plugin is that plugin's own and is not checked."""
    stores, plugins = set(store_ids), set(plugin_names)
    options: dict[str, set[str]] = {}
    for declared in OPTIONS:
        options.setdefault(declared.section, set()).add(declared.name)
    known_sections = [s for s in SECTIONS if s != STORE_SECTION]
    warnings = []
    for section, name, path, line in seen:
        if section in plugins:
            continue
        kind = STORE_SECTION if section in stores else section
        where = f"{path}:{line}"
        if kind not in options:
            if name is None:
                hint = _closest(section, known_sections, "[{}]")
                warnings.append(f"{where}: unknown section [{section}], ignored{hint}")
            continue
        if name is not None and name not in options[kind]:
            hint = _closest(name, sorted(options[kind]), "{}")
            warnings.append(f"{where}: unknown option {name} in [{section}], ignored{hint}")
    return warnings


def _closest(name: str, candidates: list[str], shape: str) -> str:
    import difflib  # only when a name is unknown

    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {shape.format(match[0])}?)" if match else " (this service does not read it)"


def overrides(environ: Mapping[str, str] | None) -> Sections:
    """The options ``environ`` overrides (set and not empty), as file sections."""
    sections: Sections = {}
    for declared in OPTIONS:
        if declared.environment and (environ or {}).get(declared.environment):
            assert environ is not None
            where = Path(f"environment variable {declared.environment}")
            sections.setdefault(declared.section, {})[declared.name] = ConfValue(
                environ[declared.environment], where, 0
            )
    return sections

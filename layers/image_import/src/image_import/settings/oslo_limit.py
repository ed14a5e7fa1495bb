"""Glance's ``[oslo_limit]`` section: which Keystone endpoint the limits belong to, and who reads them.

Read when ``[DEFAULT] use_keystone_limits = true`` (quotas/keystone.py reads the limits). The options
are oslo.limit's (``endpoint_id``, or ``endpoint_service_type``/``endpoint_service_name`` with
``endpoint_region_name`` and ``endpoint_interface``) and the keystoneauth password options oslo.limit
reads from the same section (``auth_url``, ``username``, ``password``, ``user_domain_*``,
``system_scope`` or ``project_name``/``project_domain_*``).

Ours: with no ``username`` in ``[oslo_limit]``, the ``[keystone_authtoken]`` service user reads the
limits (its password possibly in Secrets Manager or SSM, ``password_secret_arn``/``password_parameter``,
which ``[oslo_limit]`` takes too); a scope written in ``[oslo_limit]`` still applies to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from image_import.settings.ini import ConfigError, ConfValue, Sections
from image_import.settings.options import BY_NAME, option, parse_option

SECTION = "oslo_limit"
# oslo.limit's choices (declared in settings/options.py); the URL forms are deprecated and mean the same
# interface without the suffix
PASSWORD_OPTIONS = ("password", "password_secret_arn", "password_parameter")
SCOPE_OPTIONS = ("system_scope", "project_name", "project_domain_id", "project_domain_name")


@dataclass(frozen=True)
class OsloLimitSettings:
    """Where the limits are (the endpoint) and the credentials that read them."""

    auth_url: str  # Keystone, ending in /v3
    username: str
    password: str | None  # None: in password_secret_arn or password_parameter
    endpoint_id: str | None = None
    endpoint_service_type: str | None = None
    endpoint_service_name: str | None = None
    endpoint_region_name: str | None = None
    endpoint_interface: str = "public"  # without oslo.limit's deprecated "URL" suffix
    user_domain_id: str | None = None
    user_domain_name: str | None = None
    system_scope: str | None = None  # "all": a system-scoped token (what Keystone's endpoint list wants)
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    password_secret_arn: str | None = None
    password_parameter: str | None = None
    http_connect_timeout: float = 5.0
    credentials_section: str = SECTION  # where the credentials came from (named in errors)


def load_oslo_limit(sections: Sections) -> OsloLimitSettings:
    """``[oslo_limit]`` checked up front; ConfigError (with file and line) on a bad or missing value."""
    options = sections.get(SECTION, {})
    switch = sections.get("DEFAULT", {}).get("use_keystone_limits")
    where = switch.where() if switch is not None else f"[{SECTION}]"
    endpoint = _endpoint_options(options, where)
    if "auth_type" in options:
        parse_option(option(SECTION, "auth_type"), options["auth_type"])  # one of AUTH_TYPES, as declared
    if _given(options, "username"):
        credentials = _credentials(options, SECTION, where)
    else:
        fallback = sections.get("keystone_authtoken", {})
        if not _given(fallback, "username"):
            raise ConfigError(
                f"{where}: use_keystone_limits needs credentials to read the limits: [{SECTION}] auth_url, "
                "username, password, or a [keystone_authtoken] service user"
            )
        credentials = _credentials(fallback, "keystone_authtoken", where)
        if any(_given(options, name) for name in SCOPE_OPTIONS):  # [oslo_limit]'s scope wins
            credentials.update({name: None for name in SCOPE_OPTIONS})
            credentials.update(_scope(options))
    _check_scope(credentials, options, where)
    return OsloLimitSettings(**endpoint, **credentials)


def _endpoint_options(options: dict[str, ConfValue], where: str) -> dict:
    values: dict = {
        name: options[name].value
        for name in ("endpoint_id", "endpoint_service_type", "endpoint_service_name", "endpoint_region_name")
        if _given(options, name)
    }
    if not values.get("endpoint_id") and not (
        values.get("endpoint_service_type") or values.get("endpoint_service_name")
    ):
        raise ConfigError(
            f"{where}: use_keystone_limits needs [{SECTION}] endpoint_id, or endpoint_service_type or "
            "endpoint_service_name to find the endpoint"
        )
    if "endpoint_interface" in options:
        interface = parse_option(option(SECTION, "endpoint_interface"), options["endpoint_interface"])
        values["endpoint_interface"] = interface.removesuffix("URL")
    return values


def _credentials(options: dict[str, ConfValue], section: str, where: str) -> dict:
    url = options.get("auth_url") if _given(options, "auth_url") else options.get("www_authenticate_uri")
    missing = [] if url is not None and url.value else ["auth_url"]
    passwords = [name for name in PASSWORD_OPTIONS if _given(options, name)]
    if not passwords:
        missing.append("password (or password_secret_arn, password_parameter)")
    if missing:
        raise ConfigError(f"{where}: use_keystone_limits needs [{section}] {', '.join(missing)}")
    if len(passwords) > 1:
        raise ConfigError(
            f"{options[passwords[1]].where()}: [{section}] takes one of {', '.join(passwords)}, not several"
        )
    assert url is not None
    base = url.value.rstrip("/")
    if not base.endswith("/v3"):
        base += "/v3"  # operators usually write the unversioned endpoint
    values: dict = {"auth_url": base, "username": options["username"].value, "credentials_section": section}
    values["password"] = options["password"].value if "password" in passwords else None
    for name in ("password_secret_arn", "password_parameter", "user_domain_id", "user_domain_name"):
        values[name] = options[name].value if _given(options, name) else None
    values.update(_scope(options))
    for name in ("timeout", "http_connect_timeout"):  # keystoneauth's session option; keystonemiddleware's
        if name in options:
            declared = BY_NAME.get((section, name)) or option(SECTION, name)
            values["http_connect_timeout"] = float(parse_option(declared, options[name]))
            break
    return values


def _scope(options: dict[str, ConfValue]) -> dict:
    return {name: options[name].value for name in SCOPE_OPTIONS if _given(options, name)}


def _check_scope(credentials: dict, options: dict[str, ConfValue], where: str) -> None:
    system = credentials.get("system_scope")
    if system is None:
        return
    item = options.get("system_scope")
    here = item.where() if item is not None else where
    if system != "all":
        raise ConfigError(f"{here}: [{SECTION}] system_scope must be 'all' (Keystone's one system), got {system!r}")
    if credentials.get("project_name"):
        raise ConfigError(f"{here}: [{SECTION}] takes system_scope or project_name, not both")


def _given(options: dict[str, ConfValue], name: str) -> bool:
    return bool(options.get(name) and options[name].value)

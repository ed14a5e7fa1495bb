"""Keystone token validation, as keystonemiddleware does it for Glance.

A service token is obtained with the ``[keystone_authtoken]`` credentials (password method,
project-scoped) and kept until shortly before it expires. Each user token is validated with
``GET /v3/auth/tokens`` (``X-Auth-Token``: the service token, ``X-Subject-Token``: the user's)
and the answer reused until the token expires, at most ``token_cache_time`` seconds, so a
warm authorizer asks Keystone once per token and period.

The service user's password is ``[keystone_authtoken] password``, or on a deployed stack a Secrets
Manager secret (``password_secret_arn``) or an SSM SecureString (``password_parameter``), read when the
first service token is needed and kept for the sandbox's life; read again once if Keystone refuses
it (the secret may have been rotated).

``ServiceToken`` (the service user's token) also serves quotas/keystone.py, which reads the limits.

urllib rather than requests: fewer imports on the authorizer's cold start.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from image_import.models.caller import Caller, NotAuthenticated

if TYPE_CHECKING:
    from image_import.settings import KeystoneSettings

SERVICE_TOKEN_MARGIN = 60  # renew the service token this many seconds before it expires
MAX_CACHED = 10_000


class KeystoneUnavailable(Exception):
    """Keystone did not answer, or refused the service credentials: a 500, not a 401."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


Http = Callable[[str, str, dict[str, str], dict | None], Reply]


def same_origin(url: str, then: str) -> bool:
    """Whether ``then`` (absolute, or relative to ``url``) has ``url``'s scheme, host and port."""
    from urllib.parse import urljoin, urlsplit

    def origin(u: str) -> tuple[str, str, int | None]:
        parts = urlsplit(u)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)

    return origin(url) == origin(urljoin(url, then))


def urllib_http(timeout: float) -> Http:
    """Keystone over urllib; a redirect is followed only within the origin asked (scheme, host and port).

    Every request carries a token or the password: a redirect elsewhere (another host, another port,
    https to http) is not followed, and its 3xx is the answer, which no caller takes for a success.
    """
    import urllib.request

    class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if not same_origin(req.full_url, newurl):
                return None  # urllib then raises HTTPError(code): the redirect is the reply
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(SameOriginRedirects)

    def call(method: str, url: str, headers: dict[str, str], body: dict | None) -> Reply:
        import urllib.error

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        for key, value in {"Accept": "application/json", **headers}.items():
            request.add_header(key, value)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with opener.open(request, timeout=timeout) as response:
                status, raw, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, response_headers = error.code, error.read(), error.headers
        except OSError as exc:
            raise KeystoneUnavailable(f"{method} {url}: {exc}") from exc
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Reply(status, {k.lower(): v for k, v in response_headers.items()}, parsed)

    return call


def _expiry(token: dict[str, Any]) -> float:
    # Keystone writes "2026-11-25T23:02:53.000000Z"
    return datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00")).timestamp()


def _caller(token: dict[str, Any]) -> Caller:
    project = token.get("project") or {}
    return Caller(
        user_id=token["user"]["id"],
        project_id=project.get("id"),  # type: ignore[arg-type]  # None for domain- or system-scoped tokens
        roles=tuple(role["name"].lower() for role in token.get("roles") or []),
    )


def stored_password(settings: ServiceCredentials) -> str:
    """The password where ``settings`` says it is: the file, Secrets Manager or SSM."""
    from image_import.adapters import secrets

    if settings.password_secret_arn:
        return secrets.secret_password(settings.password_secret_arn)
    if settings.password_parameter:
        return secrets.parameter_password(settings.password_parameter)
    if settings.password is None:
        raise KeystoneUnavailable("[keystone_authtoken] names no password")
    return settings.password


class ServiceCredentials(Protocol):
    """A service user's password credentials: ``[keystone_authtoken]``'s, or ``[oslo_limit]``'s (read-only)."""

    @property
    def auth_url(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str | None: ...
    @property
    def user_domain_id(self) -> str | None: ...
    @property
    def user_domain_name(self) -> str | None: ...
    @property
    def project_name(self) -> str | None: ...
    @property
    def project_domain_id(self) -> str | None: ...
    @property
    def project_domain_name(self) -> str | None: ...
    @property
    def password_secret_arn(self) -> str | None: ...
    @property
    def password_parameter(self) -> str | None: ...


def password_auth(credentials: ServiceCredentials, password: str) -> dict[str, Any]:
    """The ``POST /v3/auth/tokens`` body: the password method, scoped to the system or a project."""
    c = credentials
    user: dict[str, Any] = {"name": c.username, "password": password}
    if c.user_domain_id or c.user_domain_name:
        user["domain"] = {"id": c.user_domain_id} if c.user_domain_id else {"name": c.user_domain_name}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if getattr(c, "system_scope", None):  # [oslo_limit] system_scope = all
        auth["scope"] = {"system": {"all": True}}
    elif c.project_name:
        project: dict[str, Any] = {"name": c.project_name}
        if c.project_domain_id or c.project_domain_name:
            domain = {"id": c.project_domain_id} if c.project_domain_id else {"name": c.project_domain_name}
            project["domain"] = domain
        auth["scope"] = {"project": project}
    return {"auth": auth}


class ServiceToken:
    """A token for a service user, kept until shortly before it expires (thread-safe).

    The password is read once (a secret costs a request), and read again once if Keystone refuses it:
    the stored secret may have been rotated since.
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        http: Http,
        clock: Callable[[], float] = time.time,
        password: Callable[[Any], str] = stored_password,
        section: str = "keystone_authtoken",
    ):
        self.credentials, self.http, self.clock, self.section = credentials, http, clock, section
        self._read_password = password
        self._password: str | None = None
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._token[1] - SERVICE_TOKEN_MARGIN <= self.clock():
                self._token = self._issue()
            return self._token[0]

    def forget(self) -> None:
        """Keystone refused the token (revoked?): the next ``get`` issues a new one."""
        with self._lock:
            self._token = None

    def _issue(self) -> tuple[str, float]:
        c = self.credentials
        fresh = self._password is None
        issued = self._issue_with(self._current_password())
        if issued is None and not fresh and (c.password_secret_arn or c.password_parameter):
            self._password = None  # refused: the stored secret may have been rotated since we read it
            issued = self._issue_with(self._current_password())
        if issued is None:
            raise KeystoneUnavailable(f"Keystone refused the [{self.section}] service credentials of {c.username!r}")
        return issued

    def _current_password(self) -> str:
        if self._password is None:
            try:
                self._password = self._read_password(self.credentials)
            except KeystoneUnavailable:
                raise
            except Exception as exc:  # the secret store: unreachable or refused us, a 500 as Keystone would be
                raise KeystoneUnavailable(f"the service user's password could not be read: {exc}") from exc
        return self._password

    def _issue_with(self, password: str) -> tuple[str, float] | None:
        c = self.credentials
        reply = self.http("POST", c.auth_url + "/auth/tokens", {}, password_auth(c, password))
        token = reply.headers.get("x-subject-token")
        if reply.status == 401:
            return None
        if reply.status != 201 or not token or not isinstance(reply.body, dict):
            raise KeystoneUnavailable(
                f"Keystone refused the [{self.section}] service credentials of {c.username!r} ({reply.status})"
            )
        return token, _expiry(reply.body["token"])


class KeystoneValidator:
    def __init__(
        self,
        settings: KeystoneSettings,
        http: Http | None = None,
        clock: Callable[[], float] = time.time,
        password: Callable[[KeystoneSettings], str] = stored_password,
    ):
        self.settings, self.clock = settings, clock
        self.http = http or urllib_http(settings.http_connect_timeout)
        self.calls = 0  # requests made to Keystone (tests check the cache with it)
        self._cache: dict[str, tuple[Caller, float]] = {}
        self._service = ServiceToken(settings, self._counted, clock, password)

    def validate(self, token: str) -> Caller:
        key = hashlib.sha256(token.encode()).hexdigest()  # no raw tokens kept in memory longer than needed
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        body = self._validate(token)
        caller = _caller(body["token"])
        until = min(_expiry(body["token"]), now + self.settings.token_cache_time)
        if len(self._cache) >= MAX_CACHED:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now} if len(self._cache) else {}
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
        self._cache[key] = (caller, until)
        return caller

    def _validate(self, token: str) -> dict[str, Any]:
        for attempt in (1, 2):
            reply = self._call(
                "GET", "/auth/tokens", {"X-Auth-Token": self._service.get(), "X-Subject-Token": token}, None
            )
            if reply.status == 200 and isinstance(reply.body, dict) and "token" in reply.body:
                return reply.body
            if reply.status == 401 and attempt == 1:
                self._service.forget()  # our service token may have been revoked: get a new one, ask again
                continue
            if reply.status in (400, 401, 403, 404):  # unknown, expired, revoked or malformed
                raise NotAuthenticated()
            raise KeystoneUnavailable(f"token validation answered {reply.status}")
        raise NotAuthenticated()

    def _call(self, method: str, path: str, headers: dict[str, str], body: dict | None) -> Reply:
        return self._counted(method, self.settings.auth_url + path, headers, body)

    def _counted(self, method: str, url: str, headers: dict[str, str], body: dict | None) -> Reply:
        self.calls += 1
        return self.http(method, url, headers, body)

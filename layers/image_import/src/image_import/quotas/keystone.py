"""A project's limits from Keystone's unified limits, as Glance reads them through oslo.limit.

The endpoint named by ``[oslo_limit]`` (its id, or its service type/name, region and interface) gives
the service and region the limits are registered for; a project's limit of a resource overrides
the resource's registered (default) limit, and a resource with neither is limit 0 (oslo.limit's
rule: an operator who turns unified limits on must register every limit). -1 is unlimited.

The endpoint and the service user's token are kept for the sandbox's life (the token until
shortly before it expires); the limits are read on every call, so a limit changed in Keystone
holds from the next request on (Glance makes a new oslo.limit Enforcer, which reads them, per check).

urllib, as identity/keystone.py: no keystoneauth or openstacksdk on the API's cold start.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from image_import.errors import ServiceUnavailable
from image_import.identity.keystone import Http, KeystoneUnavailable, Reply, ServiceToken, stored_password, urllib_http
from image_import.models.quota import RESOURCES
from image_import.settings.ini import ConfigError
from image_import.settings.oslo_limit import OsloLimitSettings, load_oslo_limit

if TYPE_CHECKING:
    from image_import.settings import Settings


class LimitsUnavailable(ServiceUnavailable):
    """Keystone's limits could not be read: Keystone unreachable, the credentials refused, or no such
    endpoint as ``[oslo_limit]`` names. The service cannot decide the quota: a 503 saying why, not a 500."""


class KeystoneLimits:
    """``LimitSource`` of ``quotas/limits.py`` backed by Keystone's ``/v3/registered_limits`` and ``/v3/limits``."""

    def __init__(
        self,
        settings: OsloLimitSettings | Settings,
        http: Http | None = None,
        clock: Callable[[], float] = time.time,
        password: Callable[[Any], str] = stored_password,
    ):
        self.settings = settings = oslo_limit_of(settings)
        self.http = http or urllib_http(settings.http_connect_timeout)
        self._token = ServiceToken(settings, self.http, clock, password, section=settings.credentials_section)
        self._where: dict[str, str] | None = None  # service_id and region_id of the endpoint, once found
        self._lock = threading.Lock()

    def limits(self, project_id: str) -> dict[str, int]:
        try:
            where = self.endpoint()
            registered = self._get("/registered_limits", where)["registered_limits"]
            project = self._get("/limits", {**where, "project_id": project_id})["limits"]
        except KeystoneUnavailable as exc:
            raise LimitsUnavailable(f"the limits could not be read from Keystone: {exc}") from exc
        except (KeyError, TypeError) as exc:
            raise LimitsUnavailable(f"Keystone's limits answer is not one we know: {exc!r}") from exc
        found = dict.fromkeys(RESOURCES, 0)
        for limit in registered:  # the last of a name wins, as in oslo.limit
            if limit.get("resource_name") in found:
                found[limit["resource_name"]] = int(limit["default_limit"])
        overridden: set[str] = set()
        for limit in project:  # the first of a name wins, as in oslo.limit
            name = limit.get("resource_name")
            if name in found and name not in overridden and limit.get("project_id") == project_id:
                found[name] = int(limit["resource_limit"])
                overridden.add(name)
        return found

    def endpoint(self) -> dict[str, str]:
        """``service_id`` (and ``region_id`` when the endpoint has one) of the configured endpoint."""
        with self._lock:
            if self._where is None:
                try:
                    self._where = self._find_endpoint()
                except KeystoneUnavailable as exc:
                    raise LimitsUnavailable(f"[oslo_limit]: {exc}") from exc
            return self._where

    # oslo.limit's rules and messages (_EnforcerUtils._get_endpoint)
    def _find_endpoint(self) -> dict[str, str]:
        s = self.settings
        if s.endpoint_id:
            reply = self._call("GET", f"/endpoints/{urllib.parse.quote(s.endpoint_id, safe='')}", {})
            if reply.status == 404:
                raise KeystoneUnavailable(f"Can't find endpoint for {s.endpoint_id}")
            endpoint = self._ok(reply, "endpoint")["endpoint"]
        else:
            endpoint = self._find_endpoint_of_service()
        where = {"service_id": endpoint["service_id"]}
        if endpoint.get("region_id"):
            where["region_id"] = endpoint["region_id"]
        return where

    def _find_endpoint_of_service(self) -> dict[str, Any]:
        s = self.settings
        given = {"type": s.endpoint_service_type, "name": s.endpoint_service_name}
        wanted = {key: value for key, value in given.items() if value}
        services = [
            service
            for service in self._get("/services", wanted)["services"]
            if all(service.get(key) == value for key, value in wanted.items())
        ]
        if len(services) > 1:
            raise KeystoneUnavailable("Multiple services found")
        if not services:
            raise KeystoneUnavailable("Service not found")
        query = {"service_id": services[0]["id"], "interface": s.endpoint_interface}
        if s.endpoint_region_name:
            reply = self._call("GET", f"/regions/{urllib.parse.quote(s.endpoint_region_name, safe='')}", {})
            if reply.status == 404:
                raise KeystoneUnavailable("Region not found")
            query["region_id"] = self._ok(reply, "region")["region"]["id"]
        endpoints = self._get("/endpoints", query)["endpoints"]
        if len(endpoints) > 1:
            raise KeystoneUnavailable("Multiple endpoints found")
        if not endpoints:
            raise KeystoneUnavailable("Endpoint not found")
        return endpoints[0]

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        return self._ok(self._call("GET", path, query), path)

    def _call(self, method: str, path: str, query: dict[str, str]) -> Reply:
        url = self.settings.auth_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        reply = self.http(method, url, {"X-Auth-Token": self._token.get()}, None)
        if reply.status == 401:  # our token may have been revoked: one new token, one more try
            self._token.forget()
            reply = self.http(method, url, {"X-Auth-Token": self._token.get()}, None)
        return reply

    def _ok(self, reply: Reply, what: str) -> dict[str, Any]:
        if reply.status == 200 and isinstance(reply.body, dict):
            return reply.body
        s = self.settings
        if reply.status == 403:
            raise KeystoneUnavailable(
                f"Keystone refused {s.username!r} ([{s.credentials_section}]) to read {what} (403): reading the "
                "endpoint and the limits takes the reader role on the system (system_scope = all) or admin"
            )
        raise KeystoneUnavailable(f"GET {what} answered {reply.status}")


def oslo_limit_of(settings: OsloLimitSettings | Settings) -> OsloLimitSettings:
    """The ``[oslo_limit]`` settings: given, read at start-up (``Settings.oslo_limit``), or read now."""
    if isinstance(settings, OsloLimitSettings):
        return settings
    loaded = getattr(settings, "oslo_limit", None)
    if isinstance(loaded, OsloLimitSettings):
        return loaded
    try:
        return load_oslo_limit(settings.sections)
    except ConfigError as exc:  # the quotas cannot be decided: a 503 naming the file and line
        raise LimitsUnavailable(str(exc)) from exc

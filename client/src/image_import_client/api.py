"""The image API (Glance v2 plus the direct-upload extension) over HTTP, authenticated as the glance CLI is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3


class ApiError(RuntimeError):
    """An answer of the image API that is not a success, with Glance's message when it sent one."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class AuthError(RuntimeError):
    """Not enough to authenticate: no token and no Keystone credentials, or no image endpoint."""


@dataclass(frozen=True)
class Credentials:
    """What the glance CLI reads from ``--os-*`` options and ``OS_*`` variables."""

    image_url: str | None = None
    auth_token: str | None = None
    auth_url: str | None = None
    username: str | None = None
    user_id: str | None = None
    password: str | None = None
    project_name: str | None = None
    project_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    region_name: str | None = None
    interface: str | None = None
    cacert: str | None = None
    insecure: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Credentials:
        def get(name: str) -> str | None:
            return environ.get(f"OS_{name.upper()}") or None

        fields = [f for f in cls.__dataclass_fields__ if f != "insecure"]
        # the glance CLI also accepts OS_TOKEN for the token
        values = {f: get(f) for f in fields} | {"auth_token": get("auth_token") or get("token")}
        return cls(**values, insecure=(environ.get("OS_INSECURE", "").lower() in ("1", "true", "yes")))


def image_endpoint(url: str) -> str:
    """The endpoint as the glance CLI takes it: with or without a trailing ``/v2``."""
    return re.sub(r"/v2(\.\d+)?/?$", "", url.rstrip("/"))


def token_source(credentials: Credentials) -> tuple[str, Callable[[], str]]:
    """(image endpoint, a function giving a valid token): a given token as it is, or Keystone's (renewed)."""
    if credentials.auth_token and credentials.image_url:
        token = credentials.auth_token
        return image_endpoint(credentials.image_url), lambda: token
    if not credentials.auth_url:
        raise AuthError(
            "give --os-image-url and --os-auth-token (OS_IMAGE_URL, OS_AUTH_TOKEN), "
            "or Keystone credentials (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, ...)"
        )
    session = keystone_session(credentials)
    url = credentials.image_url or session.get_endpoint(
        service_type="image", interface=credentials.interface or "public", region_name=credentials.region_name
    )
    if not url:
        raise AuthError("Keystone's catalog has no image endpoint; give --os-image-url")
    return image_endpoint(url), session.get_token  # keystoneauth caches the token and renews it before it expires


def keystone_session(credentials: Credentials):
    try:
        from keystoneauth1 import session
        from keystoneauth1.identity import generic
    except ImportError:
        raise AuthError(
            "Keystone authentication needs keystoneauth1: pip install 'image-import-client[keystone]'"
        ) from None
    scope = {
        "project_name": credentials.project_name,
        "project_id": credentials.project_id,
        "project_domain_name": credentials.project_domain_name,
        "project_domain_id": credentials.project_domain_id,
    }
    if credentials.auth_token:  # a token to rescope or to find the catalog with
        auth = generic.Token(credentials.auth_url, token=credentials.auth_token, **scope)
    else:
        auth = generic.Password(
            credentials.auth_url,
            username=credentials.username,
            user_id=credentials.user_id,
            password=credentials.password,
            user_domain_name=credentials.user_domain_name,
            user_domain_id=credentials.user_domain_id,
            **scope,
        )
    verify: bool | str = False if credentials.insecure else (credentials.cacert or True)
    # keystoneauth re-sends a request as it was (the password, the token) wherever a redirect points:
    # never follow one; a redirected request fails as an unexpected answer
    return session.Session(auth=auth, verify=verify, redirect=False)


# urllib3 drops these on a redirect to another scheme, host or port (so also https -> http); by default
# only Authorization, Cookie and Proxy-Authorization
CREDENTIAL_HEADERS = urllib3.Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT | {"x-auth-token"}


class ImageApi:
    """The calls the upload makes, as JSON over one urllib3 pool; the token never follows a redirect elsewhere."""

    def __init__(self, endpoint: str, token: Callable[[], str], *, pool: urllib3.PoolManager | None = None):
        self.endpoint, self._token = image_endpoint(endpoint), token
        self.pool = pool or urllib3.PoolManager()
        # per request, so it holds whatever pool is given; never POST twice (Retry's default methods)
        self.retries = urllib3.Retry(total=3, backoff_factor=0.5, remove_headers_on_redirect=CREDENTIAL_HEADERS)

    def call(self, method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200,)) -> Any:
        headers = {"X-Auth-Token": self._token(), "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        response = self.pool.request(
            method, self.endpoint + path, body=data, headers=headers, timeout=60.0, retries=self.retries
        )
        text = response.data.decode("utf-8", "replace")
        if response.status not in expect:
            raise ApiError(response.status, error_message(text) or response.reason or "")
        return json.loads(text) if text.strip() else None

    def create_image(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/v2/images", fields, expect=(201,))

    def get_image(self, image_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v2/images/{image_id}")

    def upload_urls(self, image_id: str, size: int, start_import: bool) -> dict[str, Any]:
        body = {"size": size, "import": start_import, "multipart": True}
        return self.call("POST", f"/v2/images/{image_id}/upload-urls", body)

    def resume_upload_urls(self, image_id: str, upload_id: str) -> dict[str, Any]:
        """Fresh part URLs for the image's multipart upload in progress, and the parts S3 already holds."""
        return self.call("POST", f"/v2/images/{image_id}/upload-urls", {"upload_id": upload_id})

    def upload_complete(self, image_id: str, upload_id: str) -> None:
        self.call("POST", f"/v2/images/{image_id}/upload-complete", {"upload_id": upload_id}, expect=(202,))

    def start_import(self, image_id: str) -> None:
        self.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": "glance-direct"}}, expect=(202,))

    def tasks(self, image_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/v2/images/{image_id}/tasks").get("tasks", [])


def error_message(text: str) -> str:
    """Glance's message out of its error body (JSON ``{"message"}`` or ``{"error": {"message"}}``), or the text."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    return text.strip()[:500]

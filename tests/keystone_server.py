"""A real Keystone on 127.0.0.1 for the tests: sqlite, fernet tokens, gunicorn with one worker.

Started once per test session (``keystone`` fixture in tests/conftest.py), with a member user
(member + reader in project ``demo``) and a service user (``service`` in project ``service``)
made through Keystone's REST API, as an operator would.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from image_import_dev.local.process import free_port

ADMIN_PASSWORD = "admin-secret"
MEMBER_PASSWORD = "member-secret"
SERVICE_PASSWORD = "service-secret"

KEYSTONE_CONF = """\
[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///{dir}/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = {dir}/fernet-keys
[fernet_receipts]
key_repository = {dir}/fernet-keys
[credential]
key_repository = {dir}/credential-keys
[identity]
# bcrypt's cheapest cost: logins in tests, not passwords worth protecting
password_hash_rounds = 4
[cache]
# in-process: one gunicorn worker, so Keystone's own invalidation (revocations, grants) stays whole
enabled = true
backend = dogpile.cache.memory
"""

# gunicorn settings live here, not on its command line: Keystone parses sys.argv with oslo.config
GUNICORN_CONF = """\
bind = "127.0.0.1:{port}"
workers = 1  # sqlite locks with more
wsgi_app = "keystone.wsgi.api:application"
raw_env = ["OS_KEYSTONE_CONFIG_FILES={dir}/keystone.conf"]
errorlog = "{dir}/gunicorn.log"
timeout = 120
"""


class KeystoneUnusable(Exception):
    pass


@dataclass
class User:
    name: str
    password: str
    project: str
    id: str = ""
    project_id: str = ""


@dataclass
class Keystone:
    url: str  # http://127.0.0.1:<port>/v3
    directory: Path
    process: subprocess.Popen
    admin: User
    member: User
    service: User
    tokens_issued: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ REST
    def call(self, method: str, path: str, token: str | None = None, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("X-Auth-Token", token)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, response.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def token(self, user: User) -> str:
        """A new project-scoped token for the user."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user.name, "domain": {"id": "default"}, "password": user.password}},
                },
                "scope": {"project": {"name": user.project, "domain": {"id": "default"}}},
            }
        }
        status, headers, answer = self.call("POST", "/auth/tokens", body=body)
        if status != 201:
            raise KeystoneUnusable(f"token for {user.name}: {status} {answer}")
        return headers["X-Subject-Token"]

    def scoped_token(self, user: User, scope: dict) -> str:
        """A token with another scope: ``{"system": {"all": True}}`` (the bootstrap admin holds the
        system role assignment) or ``{"domain": {"id": "default"}}``."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user.name, "domain": {"id": "default"}, "password": user.password}},
                },
                "scope": scope,
            }
        }
        status, headers, answer = self.call("POST", "/auth/tokens", body=body)
        if status != 201:
            raise KeystoneUnusable(f"{scope} token for {user.name}: {status} {answer}")
        return headers["X-Subject-Token"]

    def short_lived_token(self, user: User, seconds: int) -> str:
        """A token that expires in ``seconds``: Keystone caps it at its application credential's expiry."""
        from datetime import UTC, datetime, timedelta

        expires = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
        body = {"application_credential": {"name": f"short-{time.monotonic_ns()}", "expires_at": expires}}
        status, _, answer = self.call("POST", f"/users/{user.id}/application_credentials", self.token(user), body)
        if status != 201:
            raise KeystoneUnusable(f"application credential: {status} {answer}")
        credential = answer["application_credential"]
        auth = {"id": credential["id"], "secret": credential["secret"]}
        body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": auth}}}
        status, headers, answer = self.call("POST", "/auth/tokens", body=body)
        if status != 201:
            raise KeystoneUnusable(f"token from application credential: {status} {answer}")
        return headers["X-Subject-Token"]

    def revoke(self, token: str) -> None:
        status, _, answer = self.call(
            "DELETE", "/auth/tokens", self.token(self.admin), headers={"X-Subject-Token": token}
        )
        assert status == 204, answer

    def authtoken_options(self) -> dict[str, str]:
        """``[keystone_authtoken]`` for our service user, as a Glance operator writes it."""
        return {
            "www_authenticate_uri": self.url.removesuffix("/v3"),
            "auth_url": self.url.removesuffix("/v3"),
            "username": self.service.name,
            "password": self.service.password,
            "project_name": self.service.project,
            "user_domain_name": "Default",
            "project_domain_id": "default",
        }

    # ------------------------------------------------------------ unified limits, as an operator sets them
    def admin_call(self, method: str, path: str, body=None):
        return _ok(self.call(method, path, self.token(self.admin), body))

    def grant_system_reader(self, user: User) -> None:
        """The reader role on the system: what reading endpoints and limits takes (devstack grants it to
        the glance user when unified limits are on)."""
        admin = self.token(self.admin)
        roles = {r["name"]: r["id"] for r in _ok(self.call("GET", "/roles", admin))["roles"]}
        _ok(self.call("PUT", f"/system/users/{user.id}/roles/{roles['reader']}", admin))

    def register_limits(self, service_id: str, limits: dict[str, int], region_id: str = "RegionOne") -> dict[str, str]:
        """Registered (default) limits of the service; returns their ids by resource name."""
        body = {
            "registered_limits": [
                {"service_id": service_id, "region_id": region_id, "resource_name": name, "default_limit": value}
                for name, value in limits.items()
            ]
        }
        created = self.admin_call("POST", "/registered_limits", body)["registered_limits"]
        return {limit["resource_name"]: limit["id"] for limit in created}

    def set_project_limit(
        self, service_id: str, project_id: str, name: str, value: int, region_id: str = "RegionOne"
    ) -> str:
        """A project's limit of one resource (it needs the resource registered first); returns its id."""
        body = {
            "limits": [
                {"service_id": service_id, "region_id": region_id, "project_id": project_id,
                 "resource_name": name, "resource_limit": value}
            ]
        }  # fmt: skip
        return self.admin_call("POST", "/limits", body)["limits"][0]["id"]

    def update_project_limit(self, limit_id: str, value: int) -> None:
        self.admin_call("PATCH", f"/limits/{limit_id}", {"limit": {"resource_limit": value}})

    def remove_limits(self, service_id: str) -> None:
        """Every project and registered limit of the service (project limits first: they need theirs)."""
        admin = self.token(self.admin)
        for limit in _ok(self.call("GET", f"/limits?service_id={service_id}", admin))["limits"]:
            self.call("DELETE", f"/limits/{limit['id']}", admin)
        for limit in _ok(self.call("GET", f"/registered_limits?service_id={service_id}", admin))["registered_limits"]:
            self.call("DELETE", f"/registered_limits/{limit['id']}", admin)

    def oslo_limit_options(self, endpoint_id: str) -> dict[str, str]:
        """``[oslo_limit]`` as a Glance operator writes it: the endpoint, and the glance service user
        system-scoped (``grant_system_reader`` first)."""
        return {
            "endpoint_id": endpoint_id,
            "auth_url": self.url.removesuffix("/v3"),
            "auth_type": "password",
            "username": self.service.name,
            "password": self.service.password,
            "user_domain_id": "default",
            "system_scope": "all",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def _manage(directory: Path, *args: str) -> subprocess.Popen:
    manage = Path(sys.executable).with_name("keystone-manage")
    log = (directory / f"manage-{args[0]}.log").open("w")
    return subprocess.Popen(
        [str(manage), "--config-file", str(directory / "keystone.conf"), *args], stdout=log, stderr=subprocess.STDOUT
    )


def _wait_all(directory: Path, processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.wait(timeout=180) != 0:
            logs = "\n".join(p.read_text()[-2000:] for p in directory.glob("manage-*.log"))
            raise KeystoneUnusable(f"keystone-manage {process.args[3:]} failed:\n{logs}")


def start_keystone() -> Keystone:
    directory = Path(tempfile.mkdtemp(prefix="keystone-"))
    try:
        return _start(directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _start(directory: Path) -> Keystone:
    port = free_port()
    (directory / "keystone.conf").write_text(KEYSTONE_CONF.format(dir=directory))
    (directory / "gunicorn.conf.py").write_text(GUNICORN_CONF.format(dir=directory, port=port))
    owner = [
        "--keystone-user",
        pwd.getpwuid(os.getuid()).pw_name,
        "--keystone-group",
        grp.getgrgid(os.getgid()).gr_name,
    ]
    # independent of each other: run together (each keystone-manage spends seconds importing)
    _wait_all(
        directory,
        [
            _manage(directory, "db_sync"),
            _manage(directory, "fernet_setup", *owner),
            _manage(directory, "credential_setup", *owner),
        ],
    )
    url = f"http://127.0.0.1:{port}/v3"
    _wait_all(
        directory,
        [
            _manage(
                directory,
                "bootstrap",
                "--bootstrap-password",
                ADMIN_PASSWORD,
                "--bootstrap-public-url",
                url,
                "--bootstrap-region-id",
                "RegionOne",
            )
        ],
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = (directory / "gunicorn.out").open("w")
    # no arguments: gunicorn reads ./gunicorn.conf.py
    process = subprocess.Popen([str(gunicorn)], cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    keystone = Keystone(
        url,
        directory,
        process,
        admin=User("admin", ADMIN_PASSWORD, "admin"),
        member=User("demo-member", MEMBER_PASSWORD, "demo"),
        service=User("glance", SERVICE_PASSWORD, "service"),
    )
    try:
        _wait_until_up(keystone)
        _make_users(keystone)
    except BaseException:
        keystone.stop()
        raise
    return keystone


def _wait_until_up(keystone: Keystone, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if keystone.process.poll() is not None:
            raise KeystoneUnusable(f"gunicorn exited:\n{(keystone.directory / 'gunicorn.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(keystone.url, timeout=60) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise KeystoneUnusable("Keystone did not answer in time")


def _make_users(keystone: Keystone) -> None:
    admin = keystone.token(keystone.admin)
    keystone.admin.id, keystone.admin.project_id = _ids(keystone, admin)
    roles = {r["name"]: r["id"] for r in _ok(keystone.call("GET", "/roles", admin))["roles"]}
    for user, role_names in ((keystone.member, ("member", "reader")), (keystone.service, ("service",))):
        project = _ok(
            keystone.call("POST", "/projects", admin, {"project": {"name": user.project, "domain_id": "default"}})
        )
        user.project_id = project["project"]["id"]
        body = {"user": {"name": user.name, "password": user.password, "domain_id": "default"}}
        user.id = _ok(keystone.call("POST", "/users", admin, body))["user"]["id"]
        for role in role_names:
            _ok(keystone.call("PUT", f"/projects/{user.project_id}/users/{user.id}/roles/{roles[role]}", admin))


def _ids(keystone: Keystone, token: str) -> tuple[str, str]:
    answer = _ok(keystone.call("GET", "/auth/tokens", token, headers={"X-Subject-Token": token}))["token"]
    return answer["user"]["id"], answer["project"]["id"]


def _ok(reply):
    status, _, answer = reply
    if status >= 300:
        raise KeystoneUnusable(f"Keystone answered {status}: {answer}")
    return answer if answer is not None else {}

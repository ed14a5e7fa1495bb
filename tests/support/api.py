"""A client of the integration stack's emulated API Gateway, acting as one user (a token of local-tokens.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MEMBER = "member-token"


ADMIN = "admin-token"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """A tiny client of the emulated API Gateway, acting as one user."""

    def __init__(self, stack, token: str | None):
        self.stack, self.token = stack, token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, query=None
    ) -> Reply:
        all_headers = {"Host": "127.0.0.1:9292", "Accept": "application/json"}
        if self.token:
            all_headers["X-Auth-Token"] = self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        all_headers.update(headers or {})
        result = self.stack.invoke_api(method, path, headers=all_headers, query=query, body=body)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            text = base64.b64decode(text).decode()
        response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response_headers.setdefault(key.lower(), values[-1])
        return Reply(result["statusCode"], response_headers, text)

    def create(self, **fields) -> dict:
        body = {"disk_format": "raw", "container_format": "bare", "name": "test", **fields}
        reply = self.call("POST", "/v2/images", body)
        assert reply.status == 201, reply.text
        return reply.json

    def stage(self, image_id: str, data: bytes) -> Reply:
        return self.call("PUT", f"/v2/images/{image_id}/stage", data, {"Content-Type": "application/octet-stream"})

    def import_(self, image_id: str, method: str = "glance-direct") -> Reply:
        return self.call("POST", f"/v2/images/{image_id}/import", {"method": {"name": method}})

    def show(self, image_id: str) -> dict:
        reply = self.call("GET", f"/v2/images/{image_id}")
        assert reply.status == 200, reply.text
        return reply.json

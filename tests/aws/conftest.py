"""Opt-in tests against a deployed stack: skipped unless AWS_SAM_STACK_NAME names one.

    AWS_SAM_STACK_NAME=image-import IMAGE_IMPORT_TOKEN=<a member token> .venv/bin/python -m pytest tests/aws

They use your AWS credentials (boto3's usual chain) to read the stack's outputs, then talk to
the deployed API over HTTPS like any client. Cost: a few Lambda invocations, state machine
transitions and S3/DynamoDB requests per run (well under a cent), plus the deployed stack's own
idle cost (none beyond storage).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import pytest

STACK = os.environ.get("AWS_SAM_STACK_NAME")


@pytest.fixture(scope="session")
def endpoint() -> str:
    if not STACK:
        pytest.skip("set AWS_SAM_STACK_NAME to run the tests against a deployed stack")
    import boto3

    [stack] = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs["ImageApiUrl"].rstrip("/")


@pytest.fixture(scope="session")
def token() -> str:
    return os.environ.get("IMAGE_IMPORT_TOKEN", "member-token")


class DeployedApi:
    def __init__(self, endpoint: str, token: str):
        self.endpoint, self.token = endpoint, token

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        request.add_header("X-Auth-Token", self.token)
        request.add_header("Accept", "application/json")
        if isinstance(body, (dict, list)):
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
                return response.status, dict(response.headers), json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def wait_for(self, image_id: str, statuses: set[str], timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, _, image = self.call("GET", f"/v2/images/{image_id}")
            assert status == 200, image
            if image["status"] in statuses or time.monotonic() > deadline:
                return image
            time.sleep(2)


@pytest.fixture
def api(endpoint, token) -> DeployedApi:
    return DeployedApi(endpoint, token)

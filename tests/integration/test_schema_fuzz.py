"""A schema fuzzer against the whole stack: no request docs/openapi.yaml describes ends in a 5xx.

Schemathesis generates requests from the document, valid ones and ones that break it (wrong types,
missing fields, values outside enums), for every operation, as the member of config/local-tokens.yaml.
Each goes through the emulated API Gateway (authorizer included) to the real handler, and every
answer must not be a server error. Deterministic (Hypothesis derandomized, no example database)
and bounded: FUZZ_EXAMPLES cases per operation and generation mode.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from urllib.parse import parse_qs

import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from tests.support.api import MEMBER, Api
from tests.support.paths import ROOT

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
schemathesis.serializer.alias(PATCH_MEDIA_TYPE, "application/json")
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content"}


class StackApp:
    """The local stack's API Gateway as a WSGI application, so that schemathesis calls it in-process."""

    def __init__(self, stack):
        self.stack = stack

    def __call__(self, environ, start_response):
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        result = self.stack.invoke_api(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO") or "/",
            headers=headers,
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            body=body,
        )
        data = result.get("body") or ""
        data = base64.b64decode(data) if result.get("isBase64Encoded") else data.encode("utf-8")
        pairs = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        pairs += [(k, str(v)) for k, values in (result.get("multiValueHeaders") or {}).items() for v in values]
        status = int(result["statusCode"])
        start_response(f"{status} {STATUS_TEXT.get(status, 'Status')}", pairs)
        return [data]


def _schema(stack):
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    schema = schemathesis.openapi.from_dict(document)
    schema.app = StackApp(stack)
    return schema


class Fuzzer:
    """Runs the generated cases of one operation at a time and collects what went wrong."""

    def __init__(self, member: Api, admin: Api):
        self.member, self.admin = member, admin
        self.image = member.create()["id"]
        self.failures: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.lists_broken = False

    def live_image(self) -> str:
        if self.member.call("GET", f"/v2/images/{self.image}").status == 404:
            self.image = self.member.create()["id"]  # a case deleted it: later cases act on a new one
        return self.image

    def send(self, case) -> None:
        if "image_id" in (case.path_parameters or {}) and len(str(case.path_parameters)) % 4:
            case.path_parameters["image_id"] = self.live_image()  # most cases act on an image that exists
        case.headers = {**(case.headers or {}), "X-Auth-Token": MEMBER}  # negative mode would drop it
        response = case.call()
        self.statuses[response.status_code] += 1
        request = f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:300]!r}"
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception:
            self.failures.append(f"{request} -> {response.status_code}")
            raise
        if case.method != "GET" and response.status_code < 300 and not self.lists_broken:
            # what one request stored must not break the list of anyone who can see it
            for user in (self.member, self.admin):
                listed = user.call("GET", "/v2/images", query={"limit": ["1000"]}).status
                if listed >= 500:
                    self.lists_broken = True  # reported once: every later list would fail the same way
                    self.failures.append(f"GET /v2/images -> {listed} from then on, after {request}")
                    raise AssertionError(self.failures[-1])

    def fuzz(self, operation, mode: GenerationMode) -> None:
        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing request is reported as sent
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            self.send(case)

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to break in this operation (no parameters, no body): the positive cases ran
        except Exception:
            assert self.failures, "a failure the fuzzer did not record"  # recorded in send


def test_no_generated_request_is_answered_with_a_server_error(stack, member, admin):
    schema = _schema(stack)
    fuzzer = Fuzzer(member, admin)
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzzer.fuzz(result.ok(), mode)
    print(f"fuzzed: {sum(fuzzer.statuses.values())} requests, by status {sorted(fuzzer.statuses.items())}")
    assert not fuzzer.failures, "\n".join(dict.fromkeys(fuzzer.failures))

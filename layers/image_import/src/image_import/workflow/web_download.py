"""The web-download method: check the URI at the import call, then fetch it into staging.

The check runs twice: in the API (400, nothing changed) and again in the workflow step right
before connecting, because DNS may answer differently minutes later. The step connects to the
address it just checked, follows at most MAX_REDIRECTS redirects (each one checked again) and
streams the body into the staging bucket with bounded memory, enforcing ``image_size_cap`` and
``Content-Length``. The common pipeline (verify staging, plugins, store, ...) then follows.
"""

from __future__ import annotations

import hashlib
import http.client
from typing import Any, Protocol
from urllib.parse import urljoin

from image_import.adapters.ports import Ports
from image_import.errors import BadRequest, ImportFailed
from image_import.models import ImportJob
from image_import.policy.uri_filter import Resolver, Target, UriRejected, check_uri, system_resolver
from image_import.settings import Settings
from image_import.workflow.actions import ImageActions
from image_import.workflow.progress import Progress
from image_import.workflow.steps import set_processing

METHOD = "web-download"
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class Response(Protocol):
    status: int

    def header(self, name: str) -> str | None: ...
    def chunks(self) -> Any: ...
    def close(self) -> None: ...


class Fetcher(Protocol):
    def get(self, target: Target) -> Response: ...


def prepare(body: dict, settings: Settings, resolve: Resolver | None = None) -> tuple[str, tuple[str, str] | None]:
    """At the import call: the checked URI and the expected digest (or None)."""
    uri = checked_uri(body["method"], settings, resolve or system_resolver)
    return uri, validation_data(body, settings)


def checked_uri(method: dict, settings: Settings, resolve: Resolver = system_resolver) -> str:
    """The import call's check: the URI, or 400 in Glance's words."""
    uri = method.get("uri")
    try:
        check_uri(uri, settings.uri_filter, resolve)
    except UriRejected:
        raise BadRequest(f"URI for web-download does not pass filtering: {uri}") from None
    return uri


# Glance's add-location ``validation_data`` (glance/api/v2/images.py, get_add_location_properties)
VALIDATION_ALGORITHMS = ["sha1", "sha256", "sha512", "md5"]
VALIDATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "os_hash_algo": {"type": "string", "maxLength": 64, "enum": VALIDATION_ALGORITHMS},
        "os_hash_value": {"type": "string", "maxLength": 128},
    },
    "dependentRequired": {"os_hash_value": ["os_hash_algo"], "os_hash_algo": ["os_hash_value"]},
}


def validation_data(body: dict, settings: Settings) -> tuple[str, str] | None:
    """Optional expected digest: ``validation_data: {os_hash_algo, os_hash_value}``, beside ``uri``.

    Same shape, algorithms and checks (and 400 messages) as Glance's add-location API; as there, the
    import hashes the data with that algorithm, records it as the image's ``os_hash_algo`` and fails
    on a mismatch. An empty object asks for nothing. ``settings`` is kept for the call's shape.
    """
    import jsonschema  # only a web-download with validation_data pays for it

    method = body["method"]
    if "validation_data" not in method and "validation_data" not in body:
        return None
    data = method.get("validation_data", body.get("validation_data"))
    try:
        jsonschema.validate(data, VALIDATION_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise BadRequest(f"Provided object does not match schema 'validation_data': {exc.message}") from None
    if not data:
        return None
    algo, value = data["os_hash_algo"], data["os_hash_value"]
    try:
        digest = bytes.fromhex(value)
    except ValueError:
        raise BadRequest(f"os_hash_value ({value}) is not a valid hexadecimal value") from None
    want = hashlib.new(algo).digest_size
    if len(digest) != want:
        raise BadRequest(f"os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({want}) bytes)")
    return algo, digest.hex()


def download(
    job: ImportJob,
    settings: Settings,
    ports: Ports,
    fetcher: Fetcher | None = None,
    resolve: Resolver = system_resolver,
) -> ImportJob:
    """Workflow step: the URI's bytes into ``job.staging_key``; the partial object is removed on failure."""
    if fetcher is None:
        from image_import.adapters.web import WebFetcher

        fetcher = WebFetcher()
    ImageActions(ports, job.image_id, job.task_id).current()  # fail fast: image gone or lock lost
    set_processing(job, ports)
    response, uri = _open(job.source_uri, settings, fetcher, resolve)
    try:
        expected = _content_length(response)
        if expected is not None and expected > settings.image_size_cap:
            raise ImportFailed(
                f"The download is {expected} bytes, over the size cap of {settings.image_size_cap} bytes"
            )
        progress = Progress(ports, job.task_id)
        try:
            chunks = _capped(progress.track(_read(response, uri)), settings)
            written = ports.staging.write(job.staging_key, chunks)
            if expected is not None and written != expected:
                raise ImportFailed(f"Downloaded {written} bytes but the server announced {expected} (Content-Length)")
        except BaseException:
            ports.staging.delete(job.staging_key)
            raise
    finally:
        response.close()
    return job.model_copy(update={"download": {"done": True}})  # one pass, the whole download


def _open(uri: str | None, settings: Settings, fetcher: Fetcher, resolve: Resolver) -> tuple[Response, str]:
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = check_uri(uri, settings.uri_filter, resolve)
        except UriRejected as exc:
            raise ImportFailed(f"URI for web-download does not pass filtering ({exc.reason}): {uri}") from None
        try:
            response = fetcher.get(target)
        except (OSError, http.client.HTTPException) as exc:  # refused, TLS, timeout, garbled answer
            raise ImportFailed(f"Could not download {uri}: {exc!r}") from None
        if response.status in REDIRECTS and response.header("Location"):
            uri = urljoin(uri, response.header("Location"))
            response.close()
            continue
        if response.status != 200:
            response.close()
            raise ImportFailed(f"Could not download {uri}: the server answered HTTP {response.status}")
        return response, uri
    raise ImportFailed(f"Could not download the image: more than {MAX_REDIRECTS} redirects")


def _content_length(response: Response) -> int | None:
    value = response.header("Content-Length")
    if value is None or not value.strip().isdigit() or int(value) == 0:
        return None  # unknown (or 0, as Glance treats it): no check
    return int(value)


def _read(response: Response, uri: str):
    """The body; a broken connection is the user's problem to know about, not an internal error."""
    try:
        yield from response.chunks()
    except (OSError, http.client.HTTPException) as exc:
        raise ImportFailed(f"The download of {uri} broke off: {exc!r}") from None


def _capped(chunks, settings: Settings):
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > settings.image_size_cap:
            raise ImportFailed(f"Image exceeds the size cap of {settings.image_size_cap} bytes")
        yield chunk

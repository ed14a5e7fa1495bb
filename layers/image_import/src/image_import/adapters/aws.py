"""Shared, lazily created boto3 clients (one per service per process)."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials of an assumed role: an import's plugin works with these only (adapters/scoped.py)."""

    access_key_id: str
    secret_access_key: str
    session_token: str


@functools.cache
def _client(service: str, region: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    # boto3.client is not thread-safe to create concurrently; clients themselves are.
    with _lock:
        return boto3.client(service, region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def client(service: str, region: str | None = None, credentials: Credentials | None = None) -> Any:
    """The process's client of ``service``; ``region`` for a bucket in another region (None: the function's);
    ``credentials``: a client signing with those instead of the function's role."""
    if credentials is None:
        return _client(service, region)
    return _client_with(service, region, credentials)


@functools.lru_cache(maxsize=16)  # a plugin invocation's few services; an earlier invocation's fall out
def _client_with(service: str, region: str | None, credentials: Credentials) -> Any:
    import boto3
    from botocore.config import Config

    with _lock:
        return boto3.client(
            service,
            region_name=region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )


def assume_role(role_arn: str, session_name: str, tags: dict[str, str]) -> Credentials:
    """Credentials of ``role_arn`` for a session carrying ``tags`` (the role's policy reads them)."""
    answer = client("sts").assume_role(
        RoleArn=role_arn,
        RoleSessionName=session_name,
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
    )["Credentials"]
    return Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])


@functools.cache
def presigner(region: str | None = None) -> Any:
    """An S3 client for presigned URLs: SigV4 (S3 refuses SigV2 on buckets made since 2020), signed for the
    bucket's region."""
    import boto3
    from botocore.config import Config

    with _lock:
        return boto3.client("s3", region_name=region, config=Config(signature_version="s3v4"))


def reset_clients() -> None:
    """Forget cached clients (tests that switch between moto instances)."""
    _client.cache_clear()
    _client_with.cache_clear()
    presigner.cache_clear()


def is_conditional_failure(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def error_code(exc: Exception) -> str | None:
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def is_item_too_large(exc: Exception) -> bool:
    """DynamoDB refused a write for its 400 KB item limit (what the adapters answer as Glance's 413)."""
    return error_code(exc) == "ValidationException" and "item size" in str(exc).lower()

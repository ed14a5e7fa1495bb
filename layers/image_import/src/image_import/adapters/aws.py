"""Shared, lazily created boto3 clients (one per service per process)."""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()


@functools.cache
def _client(service: str, region: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    # boto3.client is not thread-safe to create concurrently; clients themselves are.
    with _lock:
        return boto3.client(service, region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def client(service: str, region: str | None = None) -> Any:
    """The process's client of ``service``; ``region`` for a bucket in another region (None: the function's)."""
    return _client(service, region)


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
    presigner.cache_clear()


def is_conditional_failure(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def error_code(exc: Exception) -> str | None:
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def is_item_too_large(exc: Exception) -> bool:
    """DynamoDB refused a write for its 400 KB item limit (what the adapters answer as Glance's 413)."""
    return error_code(exc) == "ValidationException" and "item size" in str(exc).lower()

"""What each store of the multi-store configuration holds for an image."""

from __future__ import annotations


def object_in(bucket: str, key: str, region: str = "us-east-1") -> bytes | None:
    import boto3

    try:
        return boto3.client("s3", region_name=region).get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception:
        return None


def stored(stack, image_id: str) -> dict[str, bytes | None]:
    from tests.support.multi_store import CHEAP_BUCKET, EDGE_BUCKET, EDGE_REGION

    key = f"images/{image_id}"
    return {
        "fast": object_in(stack.physical_name("StoreBucket"), key),
        "cheap": object_in(CHEAP_BUCKET, key),
        "edge": object_in(EDGE_BUCKET, key, EDGE_REGION),
    }

"""A three-store configuration for tests: the stack's bucket, a second bucket, and one in another region."""

from __future__ import annotations

from pathlib import Path

from tests.support.config import set_option

CHEAP_BUCKET = "image-import-test-cheap"
EDGE_BUCKET = "image-import-test-edge"
EDGE_REGION = "eu-west-1"
STORES = ("fast", "cheap", "edge")


def configure_stores(config_dir: Path, methods: str = "[glance-direct, web-download, copy-image]") -> Path:
    """``fast`` (default, weight 100, the stack's store bucket), ``cheap`` (weight 50) and ``edge`` (weight
    10, another region), as an operator writes them in glance-api.conf."""
    conf = "glance-api.conf"
    set_option(config_dir, conf, "DEFAULT", "enabled_backends", "fast:s3, cheap:s3, edge:s3")
    set_option(config_dir, conf, "DEFAULT", "enabled_import_methods", methods)
    set_option(config_dir, conf, "glance_store", "default_backend", "fast")
    set_option(config_dir, conf, "fast", "store_description", "Fast store")
    set_option(config_dir, conf, "fast", "weight", "100")
    set_option(config_dir, conf, "cheap", "store_description", "Cheap store")
    set_option(config_dir, conf, "cheap", "s3_store_bucket", CHEAP_BUCKET)
    set_option(config_dir, conf, "cheap", "weight", "50")
    set_option(config_dir, conf, "edge", "store_description", "Edge store")
    set_option(config_dir, conf, "edge", "s3_store_bucket", EDGE_BUCKET)
    set_option(config_dir, conf, "edge", "s3_store_region_name", EDGE_REGION)
    set_option(config_dir, conf, "edge", "weight", "10")
    return config_dir


def create_store_buckets() -> None:
    """The buckets the operator owns (inside a moto mock)."""
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=CHEAP_BUCKET)
    boto3.client("s3", region_name=EDGE_REGION).create_bucket(
        Bucket=EDGE_BUCKET, CreateBucketConfiguration={"LocationConstraint": EDGE_REGION}
    )

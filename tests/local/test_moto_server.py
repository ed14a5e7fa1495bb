"""start_moto_server: moto as a server inside this process, and boto3 pointed at it."""

from __future__ import annotations

import os
import urllib.request

import boto3
import pytest


@pytest.fixture
def moto_server(monkeypatch):
    from image_import_dev.local.server import start_moto_server
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "stepfunctions", dict(default_user_config["stepfunctions"]))
    for key in ("AWS_ENDPOINT_URL", "MOTO_PORT", "AWS_REGION"):
        monkeypatch.setenv(key, "replaced-by-the-server")  # so that monkeypatch restores them afterwards
    monkeypatch.setenv("AWS_PROFILE", "a-real-account")
    server = start_moto_server()
    yield server
    server.stop()


def test_given_start_moto_server_when_boto3_creates_a_bucket_then_the_server_over_http_has_it(moto_server):
    from moto.core.models import botocore_stubber

    assert not botocore_stubber.enabled  # no mock_aws: boto3 has to go over HTTP
    boto3.client("s3").create_bucket(Bucket="served")

    with urllib.request.urlopen(moto_server.endpoint_url + "/", timeout=10) as listing:
        assert b"<Name>served</Name>" in listing.read()
    boto3.client("s3").delete_bucket(Bucket="served")


def test_given_start_moto_server_when_it_returns_then_the_environment_points_at_it(moto_server):
    assert os.environ["AWS_ENDPOINT_URL"] == moto_server.endpoint_url == f"http://127.0.0.1:{moto_server.port}"
    assert os.environ["MOTO_PORT"] == str(moto_server.port)
    assert "AWS_PROFILE" not in os.environ


def test_given_start_moto_server_when_it_returns_then_state_machines_execute(moto_server):
    from moto.core.config import default_user_config

    assert default_user_config["stepfunctions"]["execute_state_machine"] is True


def test_given_start_moto_server_when_it_returns_then_its_s3_streams(moto_server):
    from image_import_dev.local import s3_streaming

    assert s3_streaming.installed()  # whole objects are never read into memory (test_s3_streaming.py)

"""The one starter of the local stack as a subprocess (image_import_dev.local.process)."""

from __future__ import annotations

import socket

import pytest
from image_import_dev.local.process import child_env, free_port, start_local_stack


def test_a_free_port_can_be_listened_on():
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


def test_given_a_stack_that_cannot_start_then_the_starter_raises_with_its_output(tmp_path):
    with pytest.raises(RuntimeError, match="missing.yaml"):
        start_local_stack(log=tmp_path / "log", args=["--template", str(tmp_path / "missing.yaml")], timeout=30)


def test_the_child_gets_no_aws_settings_of_ours(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    env = child_env({"PORT": "1"})
    assert "AWS_PROFILE" not in env and env["PORT"] == "1" and env["PYTHONUNBUFFERED"] == "1"

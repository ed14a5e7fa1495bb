"""Shared fixtures: the project root, a private copy of the shipped configuration, its settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.config import set_option  # noqa: F401  (re-exported for tests that still import it from here)

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items) -> None:
    """Every unit test is in the fast tier (``-m fast``, ``make test-fast``); other tests join it by marking
    themselves (``pytestmark = pytest.mark.fast``): in-process, a few seconds at most."""
    unit = ROOT / "tests" / "unit"
    for item in items:
        if unit in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.fast)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config/ that a test may edit freely."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto in decorator mode, with dummy credentials and no endpoint: nothing may reach real AWS. The
    process's caches (settings, boto3 clients...) are forgotten before and after."""
    from moto import mock_aws

    from image_import import composition

    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    composition.reset()
    with mock_aws():
        yield
    composition.reset()


@pytest.fixture
def settings(config_dir: Path):
    from image_import.settings import load_settings

    return load_settings(config_dir)


@pytest.fixture(scope="session")
def keystone():
    """A real Keystone on loopback for the whole session (tests/keystone_server.py)."""
    pytest.importorskip("keystone", reason="keystone (PyPI) is not installed: pip install keystone gunicorn")
    pytest.importorskip("gunicorn", reason="gunicorn is not installed: pip install gunicorn")
    from tests.keystone_server import start_keystone

    server = start_keystone()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _private_local_stack_file(tmp_path: Path, monkeypatch) -> None:
    # a local stack started by a test (and its children) records itself here, never in the developer's tree
    monkeypatch.setenv("IMAGE_IMPORT_LOCAL_STATE", str(tmp_path / "local-stack.json"))

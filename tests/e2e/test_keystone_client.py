"""End to end behind a real Keystone: the local stack's authorizer validates Keystone tokens."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.config import set_option
from tests.support.e2e import glance_direct_import, image_id_from

pytestmark = pytest.mark.e2e


@pytest.fixture
def service_config(config_dir, keystone):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    for key, value in keystone.authtoken_options().items():
        set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    return config_dir


def test_glanceclient_with_a_keystone_token_imports_an_image_that_ends_active(service, keystone, tmp_path):
    token = keystone.token(keystone.member)
    data = os.urandom(1024 * 1024 + 7)
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(data)
    result = glance_direct_import(service, token, "behind-keystone", image_file, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout + service.log.read_text()
    image = service.wait_for_status(image_id_from(result.stdout), {"active", "uploading", "queued"}, token=token)
    assert image["status"] == "active", image
    assert image["owner"] == keystone.member.project_id
    assert image["checksum"] == hashlib.md5(data).hexdigest()


def test_an_unknown_token_gets_401_behind_keystone(service):
    status, _, _ = service.request("GET", "/v2/images", token="member-token")  # a token-file token means nothing here
    assert status == 401

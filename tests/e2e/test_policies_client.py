"""Policies and property protections as python-glanceclient users meet them, over HTTP."""

from __future__ import annotations

import pytest

from tests.support.e2e import glance, image_id_from

pytestmark = pytest.mark.e2e


def import_as_member(service, tmp_path) -> str:
    image_file = tmp_path / "disk.img"
    image_file.write_bytes(b"protected property case")
    created = glance(
        service, "member-token", "image-create-via-import", "--disk-format", "raw", "--container-format", "bare",
        "--file", str(image_file), tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    image_id = image_id_from(created.stdout)
    assert service.wait_for_status(image_id, {"active"})["property1"] == "value1"
    return image_id


def test_a_member_reads_the_injected_property_but_cannot_change_or_remove_it(service, tmp_path):
    image_id = import_as_member(service, tmp_path)
    update = glance(
        service, "member-token", "image-update", "--property", "property1=mine", image_id, tmp_path=tmp_path
    )
    assert update.returncode != 0 and "403" in update.stderr
    remove = glance(
        service, "member-token", "image-update", "--remove-property", "property1", image_id, tmp_path=tmp_path
    )
    assert remove.returncode != 0
    assert service.request("GET", f"/v2/images/{image_id}")[2]["property1"] == "value1"


def test_an_admin_may_change_the_protected_property(service, tmp_path):
    image_id = import_as_member(service, tmp_path)
    update = glance(
        service, "admin-token", "image-update", "--property", "property1=admins", image_id, tmp_path=tmp_path
    )
    assert update.returncode == 0, update.stderr
    assert service.request("GET", f"/v2/images/{image_id}")[2]["property1"] == "admins"


def test_the_tasks_api_is_closed_to_members_and_open_to_admins(service, tmp_path):
    import_as_member(service, tmp_path)
    refused = glance(service, "member-token", "task-list", tmp_path=tmp_path)
    assert refused.returncode != 0 and "403" in refused.stderr
    listed = glance(service, "admin-token", "task-list", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "api_image_import" in listed.stdout

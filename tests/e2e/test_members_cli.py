"""End to end: sharing an image with python-glanceclient's member commands against the local stack."""

from __future__ import annotations

import pytest

from tests.support.e2e import glance, image_id_from

pytestmark = pytest.mark.e2e


def table_rows(output: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in output.splitlines() if "|" in line]
    return rows[1:]  # without the header


def test_glanceclient_shares_an_image_with_another_project(service, tmp_path):
    def run(token, *args):
        result = glance(service, token, *args, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    image_id = image_id_from(run("member-token", "image-create", "--name", "to-share", "--visibility", "shared"))

    created = run("member-token", "member-create", image_id, "alt")
    assert [image_id, "alt", "pending"] in table_rows(created)
    assert table_rows(run("member-token", "member-list", "--image-id", image_id))[0][1:] == ["alt", "pending"]

    assert image_id not in run("other-token", "image-list")
    assert image_id in run("other-token", "image-list", "--member-status", "pending")
    assert [image_id, "alt", "accepted"] in table_rows(run("other-token", "member-update", image_id, "alt", "accepted"))
    assert image_id in run("other-token", "image-list")
    assert image_id in run("other-token", "image-list", "--visibility", "shared")
    assert image_id_from(run("other-token", "image-show", image_id)) == image_id

    refused = glance(service, "member-token", "member-update", image_id, "alt", "rejected", tmp_path=tmp_path)
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout

    run("member-token", "member-delete", image_id, "alt")
    assert table_rows(run("member-token", "member-list", "--image-id", image_id)) == []
    gone = glance(service, "other-token", "image-show", image_id, tmp_path=tmp_path)
    assert gone.returncode != 0 and "No image found with ID" in gone.stderr

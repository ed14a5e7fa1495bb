"""Image tags one at a time, and deactivate/reactivate: Glance's calls that SDK and CLI users make."""

from __future__ import annotations

import pytest

from tests.support.config import set_option

OCTETS = {"Content-Type": "application/octet-stream"}


def active_image(api) -> str:
    image = api.create()
    assert api.call("PUT", f"/v2/images/{image['id']}/file", b"image data", OCTETS).status == 204
    assert api.show(image["id"])["status"] == "active"
    return image["id"]


def assert_glance_error(reply, status: int, text: str) -> None:
    assert reply.status == status, reply.text
    assert reply.json["code"].startswith(f"{status} ") and text in reply.json["message"]


# ---------------------------------------------------------------- tags


def test_a_tag_is_added_once_however_often_it_is_put(member):
    image = member.create()
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/blue").status == 204
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/blue").status == 204
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/green").status == 204
    assert member.show(image["id"])["tags"] == ["blue", "green"]


def test_a_tag_with_a_space_arrives_decoded(member):
    image = member.create()
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/two%20words").status == 204
    assert member.show(image["id"])["tags"] == ["two words"]


def test_a_deleted_tag_is_gone_and_deleting_it_again_is_404(member):
    image = member.create(tags=["blue", "green"])
    assert member.call("DELETE", f"/v2/images/{image['id']}/tags/blue").status == 204
    assert member.show(image["id"])["tags"] == ["green"]
    assert_glance_error(member.call("DELETE", f"/v2/images/{image['id']}/tags/blue"), 404, "Tag blue not found")


def test_a_tag_longer_than_255_characters_is_400_and_nothing_changes(member):
    image = member.create()
    assert_glance_error(member.call("PUT", f"/v2/images/{image['id']}/tags/{'x' * 256}"), 400, "255")
    assert member.show(image["id"])["tags"] == []


def test_a_body_on_a_tag_call_is_400(member):
    image = member.create()
    reply = member.call("PUT", f"/v2/images/{image['id']}/tags/blue", {"tag": "blue"})
    assert_glance_error(reply, 400, "A body is not expected with this request.")


def test_tags_of_an_image_the_caller_cannot_see_are_404(member, admin):
    image = admin.create()  # the admin project's, visibility shared: members of other projects cannot see it
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/blue").status == 404
    assert admin.call("PUT", f"/v2/images/{image['id']}/tags/blue").status == 204


def test_an_unknown_image_is_404(member):
    assert member.call("PUT", "/v2/images/00000000-0000-4000-8000-000000000000/tags/blue").status == 404


class TestTagQuota:
    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-api.conf", "DEFAULT", "image_tag_quota", "2")
        return config_dir

    def test_a_tag_beyond_the_quota_is_413_and_not_added(self, member):
        image = member.create(tags=["a", "b"])
        reply = member.call("PUT", f"/v2/images/{image['id']}/tags/c")
        assert_glance_error(
            reply, 413, "The limit has been exceeded on the number of allowed image tags. Attempted: 3, Maximum: 2"
        )
        assert member.show(image["id"])["tags"] == ["a", "b"]
        assert member.call("PUT", f"/v2/images/{image['id']}/tags/a").status == 204  # already there: no growth

    def test_creating_with_too_many_tags_is_413(self, member):
        reply = member.call("POST", "/v2/images", {"name": "x", "tags": ["a", "b", "c"]})
        assert_glance_error(reply, 413, "number of allowed image tags")

    def test_patching_to_too_many_tags_is_413(self, member):
        image = member.create(tags=["a"])
        reply = member.call(
            "PATCH",
            f"/v2/images/{image['id']}",
            [{"op": "replace", "path": "/tags", "value": ["a", "b", "c"]}],
            {"Content-Type": "application/openstack-images-v2.1-json-patch"},
        )
        assert_glance_error(reply, 413, "number of allowed image tags")
        assert member.show(image["id"])["tags"] == ["a"]


# ---------------------------------------------------------------- deactivate / reactivate


def test_a_deactivated_image_can_be_downloaded_by_admins_only_until_reactivated(member, admin):
    image_id = active_image(member)
    assert member.call("POST", f"/v2/images/{image_id}/actions/deactivate").status == 204
    assert member.show(image_id)["status"] == "deactivated"
    reply = member.call("GET", f"/v2/images/{image_id}/file")
    assert_glance_error(reply, 403, "The requested image has been deactivated")
    assert admin.call("GET", f"/v2/images/{image_id}/file").status == 200
    assert member.call("POST", f"/v2/images/{image_id}/actions/reactivate").status == 204
    assert member.show(image_id)["status"] == "active"
    assert member.call("GET", f"/v2/images/{image_id}/file").text == "image data"


def test_repeating_deactivate_or_reactivate_is_a_no_op(member):
    image_id = active_image(member)
    assert member.call("POST", f"/v2/images/{image_id}/actions/reactivate").status == 204
    assert member.show(image_id)["status"] == "active"
    for _ in range(2):
        assert member.call("POST", f"/v2/images/{image_id}/actions/deactivate").status == 204
    assert member.show(image_id)["status"] == "deactivated"


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_an_image_without_data_cannot_change_activation(member, action):
    image = member.create()
    reply = member.call("POST", f"/v2/images/{image['id']}/actions/{action}")
    assert_glance_error(reply, 403, f"Not allowed to {action} image in status 'queued'")
    assert member.show(image["id"])["status"] == "queued"


def test_activation_of_an_image_the_caller_cannot_see_is_404(member, admin):
    image_id = active_image(admin)
    assert member.call("POST", f"/v2/images/{image_id}/actions/deactivate").status == 404
    assert admin.show(image_id)["status"] == "active"


def test_an_unknown_action_is_404(member):
    image_id = active_image(member)
    assert member.call("POST", f"/v2/images/{image_id}/actions/explode").status == 404


def test_a_body_on_an_action_is_400(member):
    image_id = active_image(member)
    reply = member.call("POST", f"/v2/images/{image_id}/actions/deactivate", {"now": True})
    assert_glance_error(reply, 400, "A body is not expected with this request.")
    assert member.show(image_id)["status"] == "active"


class TestDeactivationPolicy:
    @pytest.fixture
    def stack_config(self, config_dir):
        with (config_dir / "policy.yaml").open("a") as rules:
            rules.write('\n"deactivate": "role:admin"\n')
        return config_dir

    def test_a_refused_deactivate_is_403_and_changes_nothing(self, member):
        image_id = active_image(member)
        reply = member.call("POST", f"/v2/images/{image_id}/actions/deactivate")
        assert_glance_error(reply, 403, "deactivate")
        assert member.show(image_id)["status"] == "active"

"""The plugins of an import run as role sessions scoped to it (issue 21): through the real state machine,
each plugin's function assumes its plugin role for the import, and the import still ends active."""

from __future__ import annotations

from tests.support.workflow import import_and_wait


def assumed_sessions() -> list[tuple[str, str]]:
    """(role ARN, session name) of every role session moto handed out."""
    from moto.sts.models import sts_backends

    return [(role.role_arn, role.session_name) for role in sts_backends["123456789012"]["aws"].assumed_roles]


def test_each_plugin_of_an_import_works_as_a_session_of_its_plugin_role_named_for_the_task(member, stack):
    image = import_and_wait(member, stack, b"abc")
    [task] = member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]

    assert image["status"] == "active" and image["property1"] == "value1"  # inject_image_metadata wrote its image
    role = f"arn:aws:iam::123456789012:role/{stack.physical_name('PluginImageRole')}"
    sessions = [session for session in assumed_sessions() if session[1].endswith(task["id"])]
    assert sessions == [(role, f"no_op.{task['id']}"), (role, f"inject_image_metadata.{task['id']}")]

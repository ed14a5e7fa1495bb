"""Lifecycle events through the whole stack: each API call and import step publishes Glance's
notifications to the template's EventBridge bus (moto's), and the local stack writes them to a file,
one JSON per line, as EventBridge delivers them to a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import MEMBER, Api
from tests.support.config import set_option
from tests.support.metrics_capture import emitted_metrics
from tests.support.stack_state import wait_for_executions


@pytest.fixture
def stack_events_file(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def put_events_calls(monkeypatch) -> list[tuple[str, list[str]]]:
    """Every PutEvents call of the stack's functions: (the thread it ran on, its entries' detail-types)."""
    import threading

    import botocore.client

    calls: list[tuple[str, list[str]]] = []
    real = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        if operation == "PutEvents":
            calls.append((threading.current_thread().name, [e["DetailType"] for e in params["Entries"]]))
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def events(stack, image_id: str | None = None) -> list[dict]:
    """(detail-type, detail) of what reached the file, in publishing order, for one image if given."""
    found = []
    for event in stack.event_log.read():
        payload = event["detail"]["payload"]
        if image_id is None or image_id in (
            payload.get("id"),
            payload.get("image_id"),
            task_images.get(payload.get("id")),
        ):
            found.append(event)
    return found


task_images: dict[str, str] = {}  # task id -> image id, as the test learns them


def types(found: list[dict]) -> list[str]:
    return [event["detail-type"] for event in found]


def test_given_an_imported_image_then_every_step_published_glances_events_in_order(stack):
    member = Api(stack, MEMBER)
    image = member.create(name="events")
    assert member.stage(image["id"], b"\0" * 4096).status == 204
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)
    task_images.update(
        {task["id"]: image["id"] for task in member.call("GET", f"/v2/images/{image['id']}/tasks").json["tasks"]}
    )

    found = events(stack, image["id"])

    assert types(found) == [
        "image.create",
        "image.update",  # staging: uploading
        "image.update",  # staged: its size
        "image.update",  # the import's lock: importing
        "task.create",
        "task.run",
        "task.processing",
        "image.prepare",
        "image.upload",
        "image.activate",
        "image.update",
        "task.success",
    ]
    statuses = [(e["detail-type"], e["detail"]["payload"]["status"]) for e in found]
    assert statuses[:4] == [("image.create", "queued"), ("image.update", "uploading"), ("image.update", "uploading"),
                            ("image.update", "importing")]  # fmt: skip
    assert ("image.activate", "active") in statuses and ("task.success", "success") in statuses
    for event in found:  # EventBridge's fields outside, Glance's envelope inside
        assert event["source"] == "image-import"
        assert event["detail"]["event_type"] == event["detail-type"]
        assert event["detail"]["publisher_id"] == "image.localhost" and event["detail"]["priority"] == "INFO"
        assert set(event["detail"]) == {"message_id", "publisher_id", "event_type", "priority", "payload", "timestamp"}
    upload = next(e for e in found if e["detail-type"] == "image.upload")["detail"]["payload"]
    assert upload["size"] == 4096 and upload["checksum"] and upload["os_glance_importing_to_stores"] == []


def test_given_edits_members_and_a_delete_then_each_publishes_its_event(stack):
    member, other = Api(stack, MEMBER), Api(stack, "admin-token")
    image = member.create(name="shared")
    patch = [{"op": "add", "path": "/color", "value": "blue"}]
    media = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    assert member.call("PATCH", f"/v2/images/{image['id']}", patch, media).status == 200
    assert member.call("PUT", f"/v2/images/{image['id']}/tags/gold").status == 204
    assert member.call("POST", f"/v2/images/{image['id']}/members", {"member": "other-project"}).status == 200
    assert other.call("PUT", f"/v2/images/{image['id']}/members/other-project", {"status": "accepted"}).status == 200
    assert member.call("DELETE", f"/v2/images/{image['id']}/members/other-project").status == 204
    assert member.call("DELETE", f"/v2/images/{image['id']}").status == 204

    found = events(stack, image["id"])

    assert types(found) == ["image.create", "image.update", "image.update", "image.member.create",
                            "image.member.update", "image.member.delete", "image.delete"]  # fmt: skip
    assert found[1]["detail"]["payload"]["properties"] == {"color": "blue"}
    assert found[2]["detail"]["payload"]["tags"] == ["gold"]
    assert [e["detail"]["payload"]["status"] for e in found[3:6]] == ["pending", "accepted", "accepted"]
    assert found[5]["detail"]["payload"]["deleted"] is True
    deleted = found[6]["detail"]["payload"]
    assert (deleted["status"], deleted["deleted"]) == ("deleted", True) and deleted["deleted_at"]


def test_given_the_bus_is_gone_then_the_call_succeeds_and_the_loss_is_counted(stack, monkeypatch, capsys):
    import boto3

    from image_import.notifications import notifier

    monkeypatch.setattr(notifier.time, "sleep", lambda _: None)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    boto3.client("events").delete_event_bus(Name=stack.physical_name("EventBus"))

    image = Api(stack, MEMBER).create(name="no bus")  # 201 all the same

    assert Api(stack, MEMBER).show(image["id"])["name"] == "no bus"
    lost = [m for m in emitted_metrics(capsys.readouterr().out) if m[0] == "NotificationsFailed"]
    assert lost == [("NotificationsFailed", 1.0, {"EventType": "image.create"})]


def test_given_disabled_image_notifications_then_only_task_events_are_published(stack_config, request):
    set_option(stack_config, "glance-api.conf", "DEFAULT", "disabled_notifications", "image.*")
    stack = request.getfixturevalue("stack")
    member = Api(stack, MEMBER)
    image = member.create(name="quiet")
    member.stage(image["id"], b"\0" * 512)
    assert member.import_(image["id"]).status == 202
    wait_for_executions(stack)

    assert types(events(stack)) == ["task.create", "task.run", "task.processing", "task.success"]


def test_given_a_request_that_sends_several_events_then_they_are_one_putevents_call_in_order(stack, put_events_calls):
    member = Api(stack, MEMBER)
    image = member.create(name="one call")
    assert member.stage(image["id"], b"\0" * 1024).status == 204
    put_events_calls.clear()

    assert member.import_(image["id"]).status == 202  # the lock, the task recorded, its execution started
    wait_for_executions(stack)

    api = [types for thread, types in put_events_calls if "ApiFunction" in thread]
    assert api == [["image.update", "task.create", "task.run"]]
    complete = [types for thread, types in put_events_calls if "CompleteImportFunction" in thread]
    assert complete == [["image.activate", "image.update", "task.success"]]  # a step's invocation: one call too
    assert types(events(stack))[3:6] == ["image.update", "task.create", "task.run"]  # the file: one image's


def test_given_an_upload_then_its_five_events_leave_in_one_call(stack, put_events_calls):
    member = Api(stack, MEMBER)
    image = member.create(name="upload")
    put_events_calls.clear()

    reply = member.call(
        "PUT", f"/v2/images/{image['id']}/file", b"\0" * 1024, {"Content-Type": "application/octet-stream"}
    )

    assert reply.status == 204
    assert [types for _, types in put_events_calls] == [
        ["image.update", "image.prepare", "image.upload", "image.activate", "image.update"]
    ]

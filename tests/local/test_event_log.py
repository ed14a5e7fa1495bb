"""The bus adapter against moto's EventBridge, and the local stack's file of events (one JSON per line)."""

from __future__ import annotations

import json

import pytest

from image_import.adapters.events import MAX_ENTRY_BYTES, SOURCE, EventBus, PublishFailed, fit
from image_import.notifications.payloads import envelope


@pytest.fixture
def moto_events(monkeypatch):
    from moto import mock_aws

    from image_import.adapters import events

    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    events.reset_client()
    with mock_aws():
        import boto3

        boto3.client("events").create_event_bus(Name="bus")
        yield
    events.reset_client()


def event_log(tmp_path):
    from image_import_dev.local.event_log import EventLog

    return EventLog(tmp_path / "events.jsonl", ["bus"], name="t", region="us-east-1", account_id="123456789012")


def test_a_published_notification_is_one_line_of_the_file_as_eventbridge_delivers_it(moto_events, tmp_path):
    log = event_log(tmp_path)
    message = envelope("image.activate", {"id": "img", "status": "active"})

    EventBus("bus").publish(message)
    [event] = log.read()

    assert (event["source"], event["detail-type"]) == (SOURCE, "image.activate")
    assert event["detail"] == message  # Glance's envelope, untouched
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == event


def test_the_file_follows_the_bus_while_the_thread_runs_and_starts_empty(moto_events, tmp_path):
    (tmp_path / "events.jsonl").write_text('{"old": "run"}\n')
    log = event_log(tmp_path).start()
    try:
        for number in range(3):
            EventBus("bus").publish(envelope("image.update", {"id": f"img-{number}"}))
    finally:
        log.stop()  # writes what is left

    written = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sorted(e["detail"]["payload"]["id"] for e in written) == ["img-0", "img-1", "img-2"]


def test_a_bus_that_is_gone_raises_for_the_notifier_to_retry(moto_events):
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        EventBus("no-such-bus").publish(envelope("image.create", {"id": "x"}))


def test_an_entry_eventbridge_refuses_raises_with_its_error(monkeypatch):
    from image_import.adapters import events

    class Refusing:
        def put_events(self, Entries):  # noqa: N803 (boto3's name)
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
            }

    monkeypatch.setattr(events, "_client", lambda: Refusing())
    with pytest.raises(PublishFailed, match="ThrottlingException: slow down"):
        EventBus("bus").publish(envelope("image.create", {"id": "x"}))


def test_an_image_too_large_for_one_entry_keeps_its_property_names_only():
    properties = {f"p{n}": "v" * 60_000 for n in range(8)}  # Glance allows it; EventBridge takes 256 KiB
    message = envelope("image.update", {"id": "img", "properties": properties})

    detail = json.loads(fit(message))

    assert len(fit(message)) < MAX_ENTRY_BYTES
    assert detail["payload"]["properties"] == dict.fromkeys(properties, "")
    assert detail["payload"]["properties_truncated"] is True and detail["payload"]["id"] == "img"
    small = envelope("image.update", {"id": "img", "properties": {"a": "b"}})
    assert json.loads(fit(small)) == small

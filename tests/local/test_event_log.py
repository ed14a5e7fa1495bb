"""The bus adapter against moto's EventBridge, the notifier's batches (one PutEvents call per 10 entries),
and the local stack's file of events (one JSON per line)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from image_import.adapters import events
from image_import.adapters.events import MAX_CALL_BYTES, MAX_ENTRY_BYTES, SOURCE, EventBus, fit
from image_import.adapters.ports import Ports
from image_import.notifications import notifier
from image_import.notifications.payloads import envelope
from tests.support.fakes import FakeBucket, FakeRecords, ports_over
from tests.support.metrics_capture import emitted_metrics


@pytest.fixture
def moto_events(mocked_aws):
    import boto3

    boto3.client("events").create_event_bus(Name="bus")


@pytest.fixture
def put_events_calls(moto_events) -> Iterator[list[list[dict]]]:
    """The Entries of every PutEvents call the adapter makes, in order (the calls still reach moto)."""
    calls: list[list[dict]] = []
    client = events._client()
    real = client.put_events

    def counting(Entries):  # noqa: N803 (boto3's name)
        calls.append(Entries)
        return real(Entries=Entries)

    client.put_events = counting
    yield calls
    del client.put_events


def event_log(tmp_path):
    from image_import_dev.local.event_log import EventLog

    return EventLog(tmp_path / "events.jsonl", ["bus"], name="t", region="us-east-1", account_id="123456789012")


def test_a_published_notification_is_one_line_of_the_file_as_eventbridge_delivers_it(moto_events, tmp_path):
    log = event_log(tmp_path)
    message = envelope("image.activate", {"id": "img", "status": "active"})

    assert EventBus("bus").publish_all([message]) == [None]
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
            EventBus("bus").publish_all([envelope("image.update", {"id": f"img-{number}"})])
    finally:
        log.stop()  # writes what is left

    written = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sorted(e["detail"]["payload"]["id"] for e in written) == ["img-0", "img-1", "img-2"]


def test_a_bus_that_is_gone_refuses_every_entry_for_the_notifier_to_retry(moto_events):
    messages = [envelope("image.create", {"id": "x"}), envelope("image.update", {"id": "x"})]
    refusals = EventBus("no-such-bus").publish_all(messages)
    assert len(refusals) == 2 and all("ResourceNotFoundException" in reason for reason in refusals)


def test_an_entry_eventbridge_refuses_is_reported_with_its_error_the_others_taken(monkeypatch):
    class Refusing:
        def put_events(self, Entries):  # noqa: N803 (boto3's name)
            return {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "1"}, {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
            }

    monkeypatch.setattr(events, "_client", lambda: Refusing())
    messages = [envelope("image.create", {"id": "x"}), envelope("image.update", {"id": "x"})]
    assert EventBus("bus").publish_all(messages) == [None, "ThrottlingException: slow down"]


# ---------------------------------------------------------------- batches: PutEvents calls of 10 entries
def ports_with(bus) -> Ports:
    records = FakeRecords()
    return ports_over(records, records, FakeBucket(), FakeBucket(), events=bus)


def image_events(count: int, ports: Ports, settings) -> None:
    from image_import.models import Image

    for number in range(count):
        notifier.image_event("image.update", Image(id=f"img-{number}", owner="demo"), ports, settings)


def test_three_events_of_one_invocation_are_one_putevents_call_in_order(moto_events, put_events_calls, settings,
                                                                        tmp_path):  # fmt: skip
    log = event_log(tmp_path)

    with notifier.batch():
        image_events(3, ports_with(EventBus("bus")), settings)
        assert put_events_calls == []  # nothing before the invocation's end

    assert [len(call) for call in put_events_calls] == [3]
    assert [json.loads(e["Detail"])["payload"]["id"] for e in put_events_calls[0]] == ["img-0", "img-1", "img-2"]
    assert [event["detail"]["payload"]["id"] for event in log.read()] == ["img-0", "img-1", "img-2"]


def test_twelve_events_are_two_calls_of_ten_and_two_and_the_file_has_them_in_order(moto_events, put_events_calls,
                                                                                   settings, tmp_path):  # fmt: skip
    log = event_log(tmp_path)

    @notifier.batched
    def handler(event, context):
        image_events(12, ports_with(EventBus("bus")), settings)
        return "done"

    assert handler({}, None) == "done"

    assert [len(call) for call in put_events_calls] == [10, 2]
    log.read()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(line.startswith("{") for line in lines)
    assert [json.loads(line)["detail"]["payload"]["id"] for line in lines] == [f"img-{n}" for n in range(12)]


def test_a_handler_that_raises_still_sends_what_it_published(moto_events, put_events_calls, settings):
    @notifier.batched
    def handler(event, context):
        image_events(2, ports_with(EventBus("bus")), settings)
        raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError, match="the step failed"):
        handler({}, None)
    assert [len(call) for call in put_events_calls] == [2]


def test_a_batch_inside_a_batch_joins_it(moto_events, put_events_calls, settings):
    with notifier.batch():
        image_events(1, ports_with(EventBus("bus")), settings)
        with notifier.batch():
            image_events(1, ports_with(EventBus("bus")), settings)
        assert put_events_calls == []
    assert [len(call) for call in put_events_calls] == [2]


def test_entries_too_large_together_go_in_more_calls(moto_events, put_events_calls, settings):
    from image_import.models import Image

    ports = ports_with(EventBus("bus"))
    large = {f"p{n}": "v" * 50_000 for n in range(2)}  # ~100 KB an event: two fit in a call, not three
    with notifier.batch():
        for number in range(3):
            notifier.image_event("image.update", Image(id=f"big-{number}", properties=large), ports, settings)

    assert [len(call) for call in put_events_calls] == [2, 1]
    assert all(sum(events.entry_size(e) for e in call) < MAX_CALL_BYTES for call in put_events_calls)


class Flaky:
    """PutEvents that refuses the entries named, a number of times each, and takes the rest."""

    def __init__(self, refuse: dict[str, int]):
        self.refuse, self.calls = refuse, []

    def put_events(self, Entries):  # noqa: N803 (boto3's name)
        self.calls.append([json.loads(e["Detail"])["payload"]["id"] for e in Entries])
        results = []
        for entry in Entries:
            image_id = json.loads(entry["Detail"])["payload"]["id"]
            if self.refuse.get(image_id, 0) > 0:
                self.refuse[image_id] -= 1
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                results.append({"EventId": image_id})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "image-import")
    monkeypatch.setattr(notifier.time, "sleep", lambda _: None)


def test_only_the_refused_entries_are_sent_again(monkeypatch, settings, metrics_on, capsys):
    flaky = Flaky({"img-1": 1})
    monkeypatch.setattr(events, "_client", lambda: flaky)

    with notifier.batch():
        image_events(3, ports_with(EventBus("bus")), settings)

    assert flaky.calls == [["img-0", "img-1", "img-2"], ["img-1"]]
    assert [m for m in emitted_metrics(capsys.readouterr().out) if m[0] == "NotificationsFailed"] == []


def test_entries_refused_every_time_are_lost_counted_and_raise_nothing(monkeypatch, settings, metrics_on, capsys):
    flaky = Flaky({"img-0": 99, "img-2": 99})
    monkeypatch.setattr(events, "_client", lambda: flaky)

    with notifier.batch():
        image_events(3, ports_with(EventBus("bus")), settings)

    assert flaky.calls == [["img-0", "img-1", "img-2"], ["img-0", "img-2"], ["img-0", "img-2"]]  # ATTEMPTS in all
    lost = [m for m in emitted_metrics(capsys.readouterr().out) if m[0] == "NotificationsFailed"]
    assert lost == [("NotificationsFailed", 1.0, {"EventType": "image.update"})] * 2


def test_a_bus_that_answers_nonsense_loses_the_events_not_the_call(settings, metrics_on, capsys):
    class Nonsense:
        def publish_all(self, envelopes):
            return []  # no answer for any entry

    with notifier.batch():
        image_events(2, ports_with(Nonsense()), settings)

    lost = [m for m in emitted_metrics(capsys.readouterr().out) if m[0] == "NotificationsFailed"]
    assert len(lost) == 2


def test_an_image_too_large_for_one_entry_keeps_its_property_names_only():
    properties = {f"p{n}": "v" * 60_000 for n in range(8)}  # Glance allows it; EventBridge takes 256 KiB
    message = envelope("image.update", {"id": "img", "properties": properties})

    detail = json.loads(fit(message))

    assert len(fit(message)) < MAX_ENTRY_BYTES
    assert detail["payload"]["properties"] == dict.fromkeys(properties, "")
    assert detail["payload"]["properties_truncated"] is True and detail["payload"]["id"] == "img"
    small = envelope("image.update", {"id": "img", "properties": {"a": "b"}})
    assert json.loads(fit(small)) == small

"""Lifecycle events: Glance's payloads and envelope, the operator's switches, and a publish that
never fails its caller. The reference is what a real Glance 33 sent (tests/fixtures/glance_notifications.jsonl,
its `[oslo_messaging_notifications] driver = log` output for a create, stage, import, members, upload, delete)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_import.adapters.ports import Ports
from image_import.models import Image, Task
from image_import.models.image import ImageMember, ImportLock
from image_import.notifications import is_enabled, notifier, payloads
from image_import.settings import ConfigError, load_settings
from tests.support.config import set_option
from tests.support.fakes import FakeBucket, FakeRecords, ports_over
from tests.support.metrics_capture import emitted_metrics
from tests.support.notifications import FlakyBus

GLANCE = {
    (event := json.loads(line))["event_type"]: event
    for line in (Path(__file__).parents[1] / "fixtures" / "glance_notifications.jsonl").read_text().splitlines()
}


def json_type(value):
    return (
        type(None)
        if value is None
        else {bool: bool, int: int, float: int, str: str, list: list, dict: dict}[type(value)]
    )


def assert_same_shape(ours: dict, glance: dict) -> None:
    """The same fields as Glance's, each of the same JSON type wherever both have a value."""
    assert set(ours) == set(glance)
    for key, value in glance.items():
        if value is not None and ours[key] is not None:
            assert json_type(ours[key]) is json_type(value), key


def an_image(**changes) -> Image:
    fields = dict(id="0b9a6c4e-4a7d-4d0e-9d0c-0f1f2a3b4c5d", name="cirros", owner="demo", disk_format="raw",
                  container_format="bare", size=4096, checksum="d1828065e291bd1b85e7e17a3d54cfb9", virtual_size=4096,
                  status="active", tags=["b", "a"], properties={"x_prop": "1"}, created_at="2026-12-02T02:13:19Z",
                  updated_at="2026-12-02T02:13:37Z")  # fmt: skip
    return Image(**{**fields, **changes})


def a_task(**changes) -> Task:
    fields = dict(id="9600cc4c-61dc-4e41-8e1b-08c991db04a2", owner="demo", image_id="img", status="success",
                  input={"import_req": {"method": {"name": "web-download", "uri": "https://user:pw@host/x"}}},
                  result={"image_id": "img"}, message="done", created_at="2026-12-02T02:13:31Z",
                  updated_at="2026-12-02T02:13:32Z", expires_at="2026-12-04T02:13:32Z")  # fmt: skip
    return Task(**{**fields, **changes})


# ---------------------------------------------------------------- payloads, field for field Glance's
@pytest.mark.parametrize("event_type", ["image.create", "image.update", "image.activate"])
def test_an_image_payload_has_glances_fields(event_type):
    assert_same_shape(payloads.image_payload(an_image()), GLANCE[event_type]["payload"])


@pytest.mark.parametrize("event_type", ["image.prepare", "image.upload"])
def test_prepare_and_upload_add_the_import_store_lists_as_glance_does(event_type):
    image = an_image(properties={"os_glance_importing_to_stores": "", "os_glance_failed_import": "s3,file"})
    payload = {**payloads.image_payload(image), **payloads.import_properties(image)}

    assert_same_shape(payload, GLANCE[event_type]["payload"])
    assert payload["os_glance_importing_to_stores"] == [] and payload["os_glance_failed_import"] == ["s3", "file"]


def test_an_image_payload_says_what_glance_says():
    image = an_image(visibility="public", import_lock=ImportLock(task_id="t-1", taken_at="2026-12-02T02:13:31Z"))

    payload = payloads.image_payload(image)

    assert payload["is_public"] is True and payload["visibility"] == "public"
    assert payload["properties"] == {"x_prop": "1", "os_glance_import_task": "t-1"}  # the lock, as Glance keeps it
    assert payload["tags"] == ["a", "b"]
    assert (payload["deleted"], payload["deleted_at"]) == (False, None)
    assert "os_hash_value" not in payload and "locations" not in payload  # Glance sends neither


def test_a_deleted_image_payload_is_deleted_at_the_time_given():
    payload = payloads.deleted_image_payload(an_image(), "2026-12-02T02:13:38Z")

    assert_same_shape(payload, GLANCE["image.delete"]["payload"])
    assert (payload["status"], payload["deleted"], payload["deleted_at"]) == ("deleted", True, "2026-12-02T02:13:38Z")


@pytest.mark.parametrize("event_type", ["image.member.create", "image.member.update"])
def test_a_member_payload_has_glances_fields(event_type):
    member = ImageMember(status="accepted", created_at="2026-12-02T02:13:37Z", updated_at="2026-12-02T02:13:37Z")
    payload = payloads.member_payload("img", "other", member)

    assert_same_shape(payload, GLANCE[event_type]["payload"])
    assert (payload["member_id"], payload["status"], payload["deleted"]) == ("other", "accepted", False)


def test_a_deleted_member_payload_is_deleted():
    payload = payloads.member_payload("img", "other", ImageMember(), "2026-12-02T02:13:38Z")
    assert_same_shape(payload, GLANCE["image.member.delete"]["payload"])
    assert (payload["deleted"], payload["deleted_at"]) == (True, "2026-12-02T02:13:38Z")


@pytest.mark.parametrize("event_type", ["task.create", "task.processing", "task.success", "task.failure"])
def test_a_task_payload_has_glances_fields_and_never_the_input_result_or_message(event_type):
    payload = payloads.task_payload(a_task())

    assert_same_shape(payload, GLANCE[event_type]["payload"])
    assert "pw@" not in json.dumps(payload)  # the input (a URI with credentials) never leaves
    assert (payload["result"], payload["message"]) == (None, None)  # Glance sends None for both


def test_the_envelope_is_oslo_messagings():
    moment = datetime(2026, 12, 2, 2, 13, 37, 528191, tzinfo=UTC)

    message = payloads.envelope("image.upload", {"id": "x"}, now=moment, message_id="m-1")

    assert set(message) == set(GLANCE["image.upload"])
    assert message == {"message_id": "m-1", "publisher_id": "image.localhost", "event_type": "image.upload",
                       "priority": "INFO", "payload": {"id": "x"}, "timestamp": "2026-12-02 02:13:37.528191"}  # fmt: skip
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    assert stamp.fullmatch(GLANCE["image.upload"]["timestamp"])
    assert stamp.fullmatch(payloads.envelope("x", {}, now=moment.replace(microsecond=0))["timestamp"])


# ---------------------------------------------------------------- the operator's switches
@pytest.fixture
def switches(config_dir):
    def load(options: dict):
        for (section, key), value in options.items():
            set_option(config_dir, "glance-api.conf", section, key, value)
        return load_settings(config_dir)

    return load


@pytest.mark.parametrize(
    ("disabled", "event_type", "sent"),
    [
        ("image.create", "image.create", False),
        ("image.create", "image.update", True),
        ("image", "image.member.create", False),  # Glance's groups: the first part ...
        ("image.member", "image.member.update", False),  # ... and, as Glance documents, image.member
        ("image.member", "image.update", True),
        ("image.*", "image.activate", False),  # ours: patterns
        ("task.s*", "task.success", False),
        ("task.s*", "task.failure", True),
        ("task", "tasks.create", True),
    ],
)
def test_disabled_notifications_take_types_groups_and_patterns(switches, disabled, event_type, sent):
    settings = switches({("DEFAULT", "disabled_notifications"): disabled})
    assert is_enabled(event_type, settings) is sent


def test_notifications_are_on_by_default_and_off_with_the_noop_driver(switches, settings):
    assert is_enabled("image.create", settings)
    noop = switches({("oslo_messaging_notifications", "driver"): "noop"})
    assert not is_enabled("image.create", noop)


def test_an_unknown_driver_stops_start_up_naming_the_file(switches):
    with pytest.raises(ConfigError, match=r"glance-api.conf:\d+: \[oslo_messaging_notifications\] driver must"):
        switches({("oslo_messaging_notifications", "driver"): "rabbit"})


def test_the_publisher_id_is_glances_option(switches, settings):
    assert settings.publisher_id == "image.localhost"
    assert switches({("DEFAULT", "default_publisher_id"): "image.eu-west-1"}).publisher_id == "image.eu-west-1"


# ---------------------------------------------------------------- publishing never fails the caller


def ports_with(events) -> Ports:
    records = FakeRecords()
    return ports_over(records, records, FakeBucket(), FakeBucket(), events=events)


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "image-import")


def test_a_failed_publish_is_retried_and_then_delivered(settings, monkeypatch):
    monkeypatch.setattr(notifier.time, "sleep", lambda _: None)
    bus = FlakyBus(failures=notifier.ATTEMPTS - 1)

    notifier.image_event("image.create", an_image(), ports_with(bus), settings)

    assert [e["event_type"] for e in bus.published] == ["image.create"]
    assert bus.published[0]["payload"]["id"] == an_image().id


def test_a_publish_that_keeps_failing_returns_is_counted_and_raises_nothing(settings, monkeypatch, capsys, metrics_on):
    pauses = []
    monkeypatch.setattr(notifier.time, "sleep", pauses.append)
    bus = FlakyBus(failures=99)

    notifier.task_event("task.success", a_task(), ports_with(bus), settings)  # no exception

    assert bus.published == [] and bus.failures == 99 - notifier.ATTEMPTS
    assert pauses == [notifier.BACKOFF_SECONDS, 2 * notifier.BACKOFF_SECONDS]  # bounded, short
    assert ("NotificationsFailed", 1.0, {"EventType": "task.success"}) in emitted_metrics(capsys.readouterr().out)


def test_a_disabled_event_is_never_built_nor_sent(switches):
    settings = switches({("DEFAULT", "disabled_notifications"): "image.*"})
    bus = FlakyBus(failures=0)

    notifier.image_event("image.create", an_image(), ports_with(bus), settings)
    notifier.task_event("task.create", a_task(), ports_with(bus), settings)

    assert [e["event_type"] for e in bus.published] == ["task.create"]


def test_without_a_bus_nothing_is_read_or_sent(monkeypatch):
    # no settings given and none loadable: with no bus configured the notifier never asks for them
    monkeypatch.setenv("IMAGE_IMPORT_CONFIG_DIR", "/nonexistent")
    notifier.image_event("image.create", an_image(), ports_with(None))


def test_settings_that_cannot_be_read_lose_the_event_not_the_call(monkeypatch, capsys, metrics_on):
    from image_import import composition

    monkeypatch.setenv("IMAGE_IMPORT_CONFIG_DIR", "/nonexistent")
    composition.reset()
    bus = FlakyBus(failures=0)

    notifier.image_event("image.create", an_image(), ports_with(bus))

    assert bus.published == []
    assert ("NotificationsFailed", 1.0, {"EventType": "image.create"}) in emitted_metrics(capsys.readouterr().out)
    composition.reset()


def test_an_upload_failure_is_an_error_with_a_text_payload_as_glance_sends_it(settings):
    bus = FlakyBus(failures=0)
    notifier.error_event(
        "image.upload", "Failed to upload image data for image x: disk full", ports_with(bus), settings
    )
    [message] = bus.published
    assert (message["priority"], message["payload"]) == ("ERROR", "Failed to upload image data for image x: disk full")

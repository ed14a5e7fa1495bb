"""The upload function's edge: the upload queue's SQS batches through Powertools' batch processor."""

from __future__ import annotations

import importlib.util
import json

from tests.support.fakes import fake_ports
from tests.support.paths import ROOT
from tests.support.uploads import uploaded


def load_handler_module():
    spec = importlib.util.spec_from_file_location("on_upload_app", ROOT / "functions/on_upload/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_handler_module()


def s3_record(image_id: str) -> dict:
    return {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": f"uploads%2F{image_id}"}}}


def message(message_id: str, *image_ids: str) -> dict:
    body = json.dumps({"Records": [s3_record(i) for i in image_ids]})
    return {"messageId": message_id, "body": body, "eventSource": "aws:sqs"}


def failing_for(ports, *bad: str):
    original_get = ports.images.get

    def get(key):
        if key in bad:
            raise RuntimeError("throttled")
        return original_get(key)

    ports.images.get = get
    return original_get


def test_given_a_batch_with_one_failing_message_then_only_that_message_is_reported(settings):
    ports = fake_ports()
    good, bad = uploaded(ports, settings), uploaded(ports, settings)
    original_get = failing_for(ports, bad)

    result = app.receive_batch({"Records": [message("m-good", good), message("m-bad", bad)]}, None, settings, ports)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    assert original_get(good).status == "uploading"


def test_given_a_batch_where_every_message_fails_then_every_message_is_reported_and_nothing_raises(settings):
    ports = fake_ports()
    one, two = uploaded(ports, settings), uploaded(ports, settings)
    failing_for(ports, one, two)

    result = app.receive_batch({"Records": [message("m1", one), message("m2", two)]}, None, settings, ports)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}


def test_given_a_message_with_two_uploads_and_one_failing_then_the_other_is_still_staged(settings):
    ports = fake_ports()
    bad, good = uploaded(ports, settings), uploaded(ports, settings)
    original_get = failing_for(ports, bad)

    result = app.receive_batch({"Records": [message("m", bad, good)]}, None, settings, ports)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert original_get(good).status == "uploading"


def test_given_a_message_that_is_not_an_s3_event_then_it_is_dropped_not_retried(settings):
    ports = fake_ports()
    records = [{"messageId": "m", "body": "not json", "eventSource": "aws:sqs"}]
    assert app.receive_batch({"Records": records}, None, settings, ports) == {"batchItemFailures": []}


def test_given_an_event_without_records_then_nothing_fails():
    assert app.receive_batch({}, None, None, fake_ports()) == {"batchItemFailures": []}

"""The sweeper keeps a queued image's uploads/ object as long as UploadQueue may still deliver its event."""

from __future__ import annotations

from tests.support.infra import translate

SQS_DEFAULT_RETENTION = 345600  # seconds: what a queue without MessageRetentionPeriod keeps a message


def test_the_sweepers_upload_event_window_covers_the_upload_queues_delivery_window():
    resources = translate()["Resources"]
    queue = resources["UploadQueue"]["Properties"]
    retention = int(queue.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION))
    retries = int(queue["VisibilityTimeout"]) * int(queue["RedrivePolicy"]["maxReceiveCount"])
    variables = resources["SweeperFunction"]["Properties"]["Environment"]["Variables"]
    window = int(variables["SWEEPER_UPLOAD_EVENT_WINDOW_SECONDS"])
    assert window >= max(retention, retries)

"""An EventBridge bus's events in a file, one JSON per line, for a person to ``tail -f``.

Locally the functions publish to moto's EventBridge exactly as on AWS (the same adapter). A rule on
each of the template's buses sends every event to a queue made for the purpose, and a thread
appends what arrives to the file: the events as EventBridge delivers them to a target
(``detail-type``, ``source``, ``time``, ``detail``...).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.1  # seconds between empty receives


class EventLog:
    def __init__(self, path: Path, bus_names: list[str], *, name: str, region: str, account_id: str):
        import boto3

        self.path = Path(path)
        self.events = boto3.client("events", region_name=region)
        self.sqs = boto3.client("sqs", region_name=region)  # made here: creating clients in threads is not safe
        queue = f"{name}-events-to-file"[:80]
        self.queue_url = self.sqs.create_queue(QueueName=queue)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        for bus in bus_names:  # every event of the bus: they all come from this account
            self.events.put_rule(
                Name=f"{name}-to-file", EventBusName=bus, EventPattern=json.dumps({"account": [account_id]})
            )
            self.events.put_targets(
                Rule=f"{name}-to-file",
                EventBusName=bus,
                Targets=[{"Id": "file", "Arn": queue_arn["Attributes"]["QueueArn"]}],
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")  # this run's events only
        self._lock = threading.Lock()  # one writer at a time: the thread, or a test's drain()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> EventLog:
        self._thread = threading.Thread(target=self._run, name="events-to-file", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.drain()  # what arrived last is written too

    def drain(self) -> int:
        """Append every waiting event to the file now; how many were written."""
        written = 0
        with self._lock:
            while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                with self.path.open("a", encoding="utf-8") as out:
                    for message in messages:
                        out.write(_line(message["Body"]) + "\n")
                for message in messages:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                written += len(messages)
        return written

    def read(self) -> list[dict[str, Any]]:
        """The events written so far (after a drain), oldest first."""
        self.drain()
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                written = self.drain()
            except Exception:  # keep going, as an event target would
                log.exception("writing events to %s failed", self.path)
                written = 0
            if not written:
                self._stop.wait(POLL_INTERVAL)


def _line(body: str) -> str:
    try:
        return json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        return json.dumps({"unparsed": body})

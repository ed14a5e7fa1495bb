"""Event sources that AWS runs for you: an SQS event source mapping becomes a poller thread here.

An S3 -> Lambda bucket notification, which moto cannot deliver to an in-process function, becomes
a queue notification plus a poller that hands each S3 event to the function.

Lambda's SQS poller receives a batch, invokes the function with it, and deletes what succeeded
(with ``ReportBatchItemFailures``, everything but the listed failures); failed messages come back
after the visibility timeout. ``QueueConsumer`` does the same, invoking the handler in-process.
Bucket notifications to the queue are moto's own (synchronous, inside PutObject).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from image_import_dev.local.runtime import LambdaRuntime

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.05  # seconds between empty receives


class QueueConsumer:
    def __init__(
        self,
        runtime: LambdaRuntime,
        function_name: str,
        queue_arn: str,
        *,
        region: str,
        batch_size: int = 10,
        report_batch_item_failures: bool = False,
        s3_events: bool = False,
    ):
        import boto3

        self.runtime, self.function_name, self.queue_arn = runtime, function_name, queue_arn
        self.region, self.batch_size = region, max(1, min(int(batch_size), 10))
        self.report_failures = report_batch_item_failures
        # True: the queue stands in for an S3 -> Lambda notification; the function gets each S3 event itself
        self.s3_events = s3_events
        self.sqs = boto3.client("sqs", region_name=region)  # made here: creating clients in threads is not safe
        self.queue_url = self.sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        self._stop = threading.Event()
        self._busy = threading.Event()  # set from before a receive until its batch is handled
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sqs-{self.function_name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def idle(self) -> bool:
        """Nothing being handled and nothing waiting (messages that failed and wait out their visibility do not count)."""
        if self._busy.is_set():
            return False
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == 0 and not self._busy.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._busy.set()
            try:
                handled = self._poll_once()
            except Exception:  # the poller keeps going, as Lambda's does
                log.exception("polling %s for %s failed", self.queue_arn, self.function_name)
                handled = False
            finally:
                self._busy.clear()
            if not handled:
                self._stop.wait(POLL_INTERVAL)

    def _poll_once(self) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return False
        if self.s3_events:
            for message in messages:
                self._invoke_with_s3_event(message)
            return True
        result = self.runtime.invoke(self.function_name, {"Records": [self._record(m) for m in messages]})
        if result.function_error:
            log.warning("%s failed on a batch from %s: %s", self.function_name, self.queue_arn, result.error_message)
            failed = {m["MessageId"] for m in messages}
        elif self.report_failures:
            reported = (result.json() or {}).get("batchItemFailures") or []
            failed = {item.get("itemIdentifier") for item in reported}
        else:
            failed = set()
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _invoke_with_s3_event(self, message: dict[str, Any]) -> None:
        event = json.loads(message["Body"])
        if "Records" in event:  # not s3:TestEvent, which S3 sends to queues but never to functions
            result = self.runtime.invoke(self.function_name, event)
            if result.function_error:  # S3 invokes asynchronously: Lambda would retry, then drop
                log.warning("%s failed on an S3 event: %s", self.function_name, result.error_message)
                return  # the message comes back after its visibility timeout
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


def wait_until_idle(consumers: list[QueueConsumer], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(consumer.idle() for consumer in consumers):
        if time.monotonic() > deadline:
            raise TimeoutError(f"event sources still busy after {timeout} s")
        time.sleep(POLL_INTERVAL)

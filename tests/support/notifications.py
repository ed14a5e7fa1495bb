"""A notification bus that fails a given number of times."""

from __future__ import annotations


class FlakyBus:
    def __init__(self, failures: int):
        self.failures, self.published = failures, []

    def publish_all(self, envelopes):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("EventBridge unreachable")
        self.published.extend(envelopes)
        return [None] * len(envelopes)

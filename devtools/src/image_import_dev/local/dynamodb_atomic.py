"""moto's DynamoDB, one request at a time: the local stack's, and tests that race writers in-process.

DynamoDB applies each request atomically (a transaction, a conditional write). moto checks a condition and
then writes without a lock, so two threads can both pass a condition that only one should: a quota's
counter would admit more than its limit, an image lock two imports. One lock around every DynamoDB request
gives the local stack DynamoDB's own guarantee (serialised requests cost nothing at its scale).
"""

from __future__ import annotations

import threading

_lock = threading.RLock()
_installed = False


def installed() -> bool:
    return _installed


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def one_at_a_time(self):
        with _lock:
            return call_action(self)

    DynamoHandler.call_action = one_at_a_time
    _installed = True

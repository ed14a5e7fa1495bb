"""The one claim/write/give-back sequence (quotas/claims.py): a failed write gives its claim back
exactly once; a refused claim or a good write gives nothing back."""

from __future__ import annotations

import pytest

from image_import.errors import BadRequest, RequestEntityTooLarge
from image_import.models.quota import OverLimit
from image_import.quotas.claims import claimed


class Ledger:
    def __init__(self) -> None:
        self.events: list[str] = []

    def claim(self) -> None:
        self.events.append("claim")

    def give_back(self, error: BaseException) -> None:
        self.events.append(f"give back after {type(error).__name__}")


def test_a_failed_write_gives_the_claim_back_exactly_once_and_its_error_propagates():
    ledger = Ledger()

    def write() -> None:
        raise OSError("the store went away")

    with pytest.raises(OSError, match="the store went away"):
        claimed(ledger.claim, write, ledger.give_back)
    assert ledger.events == ["claim", "give back after OSError"]


def test_an_interrupted_write_gives_the_claim_back_too():
    ledger = Ledger()

    def write() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        claimed(ledger.claim, write, ledger.give_back)
    assert ledger.events == ["claim", "give back after KeyboardInterrupt"]


def test_the_give_back_may_name_the_error_the_caller_sees():
    given_back = []

    def write() -> None:
        raise OverLimit("p", [], {}, {})

    def give_back(error: BaseException) -> None:
        given_back.append(error)
        raise RequestEntityTooLarge("over the limit") from None

    with pytest.raises(RequestEntityTooLarge):
        claimed(lambda: None, write, give_back)
    assert len(given_back) == 1 and isinstance(given_back[0], OverLimit)


def test_a_refused_claim_gives_nothing_back_and_writes_nothing():
    ledger, written = Ledger(), []

    def refused() -> None:
        raise BadRequest("refused")

    with pytest.raises(BadRequest):
        claimed(refused, lambda: written.append("written"), ledger.give_back)
    assert ledger.events == [] and written == []


def test_a_good_write_keeps_its_claim():
    ledger = Ledger()
    assert claimed(ledger.claim, lambda: 7, ledger.give_back) == 7
    assert ledger.events == ["claim"]

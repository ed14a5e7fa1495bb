"""Claim, write, give the claim back: the one shape of every request that takes quota before its work.

A stage, an upload and an import's start each first make a conditional write that claims what they
will use (models/quota.py: the claims are that write's condition, so nothing is taken when it is
refused), then do the work the claim is for (write the data, start the workflow), and when that work
fails in any way undo the claim (the image back to what it was, its counters with it). This module is
that sequence, once: the undo runs exactly once whatever the work raised, an interruption included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def claimed(claim: Callable[[], object], write: Callable[[], T], give_back: Callable[[BaseException], object]) -> T:
    """``claim()``, then ``write()``, its result returned. ``claim``'s errors (OverLimit, a concurrent
    writer) pass as they are: nothing was claimed, nothing is given back. When ``write`` raises anything,
    ``give_back(error)`` runs once to undo the claim; the error then propagates, unless ``give_back``
    raises the one its caller should see instead (a 413 for an OverLimit, ...)."""
    claim()
    try:
        return write()
    except BaseException as error:
        give_back(error)
        raise

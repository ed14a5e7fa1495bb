"""Progress messages on the task during a transfer, and stopping when the task is no longer ours."""

from __future__ import annotations

import pytest

from image_import.errors import TaskAborted
from image_import.models import Task
from image_import.steps.progress import MIB, Progress
from tests.support.fakes import fake_ports


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def task_ports(status="processing"):
    ports = fake_ports()
    ports.tasks.create(Task(id="t", image_id="i", status=status, created_at="x", updated_at="x"))
    return ports


def test_the_message_reads_copied_n_mib_and_is_refreshed_every_interval():
    ports, clock = task_ports(), Clock()
    progress = Progress(ports, "t", interval=60, clock=clock)
    messages = []

    def chunks():
        for _ in range(3):
            yield b"x" * MIB
            clock.now += 61
            messages.append(ports.tasks.get("t").message)

    assert sum(map(len, progress.track(chunks()))) == 3 * MIB
    # each report counts the bytes received so far (the source advanced the clock before its next chunk)
    assert messages == ["Copied 0 MiB", "Copied 2 MiB", "Copied 3 MiB"]
    assert ports.tasks.get("t").message == "Copied 3 MiB"


def test_no_report_between_intervals():
    ports, clock = task_ports(), Clock()
    progress = Progress(ports, "t", interval=60, clock=clock)
    list(progress.track([b"x" * MIB] * 5))  # no time passes: start and end reports only
    assert ports.tasks.get("t").version == 2


def test_a_task_that_is_no_longer_processing_stops_the_transfer():
    ports = task_ports(status="failure")
    with pytest.raises(TaskAborted, match="no longer processing"):
        list(Progress(ports, "t").track([b"x"]))

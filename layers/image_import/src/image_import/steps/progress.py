"""Transfer progress on the task: ``Copied N MiB``, as Glance reports it.

Writing the message also refreshes the task's ``updated_at``, which is what keeps the image's
import lock from being considered stale (Glance: 60 minutes without progress). If the task is no
longer ``processing`` (its lock was taken over, or it was failed by the sweeper), the transfer
stops.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator

from image_import.adapters.ports import Ports
from image_import.errors import ConcurrentUpdate, TaskAborted
from image_import.models import Task
from image_import.models.time import utcnow

MIB = 1024 * 1024
REPORT_EVERY_SECONDS = 60.0


class Progress:
    def __init__(
        self,
        ports: Ports,
        task_id: str,
        interval: float = REPORT_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        start: int = 0,
    ):
        self.ports, self.task_id, self.interval, self.clock = ports, task_id, interval, clock
        self.copied = start  # a pass of a copy in passes counts on from where the previous one stopped
        self._last_report: float | None = None

    def track(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass chunks through, reporting at the start and then at least every ``interval`` seconds."""
        self.report()
        for chunk in chunks:
            self.add(len(chunk))
            yield chunk
        self.report()

    def add(self, count: int) -> None:
        """``count`` more bytes moved; a report if the last one is ``interval`` old."""
        self.copied += count
        if self._last_report is None or self.clock() - self._last_report >= self.interval:
            self.report()

    def report(self) -> None:
        self._last_report = self.clock()
        message = f"Copied {self.copied // MIB} MiB"

        def note(task: Task | None) -> bool:
            if task is None or task.status not in ("pending", "processing"):
                raise TaskAborted(f"Task {self.task_id} is no longer processing; stopping the transfer.")
            task.message, task.updated_at = message, utcnow()
            return True

        # a heartbeat that keeps losing to other writers is skipped: the next one comes soon
        with contextlib.suppress(ConcurrentUpdate):
            self.ports.tasks.edit(self.task_id, note, attempts=5)

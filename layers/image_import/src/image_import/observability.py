"""One place for logging: a Powertools Logger, and the adapter that wraps workflow-step handlers.

Every log line of an import step carries the image id and task id; API lines carry the
request id. (No Tracer here: it costs ~200 ms of cold start; Lambda's active tracing is on.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()


# what a pass leaves itself to return its state (and write its last progress) before the function's timeout
PASS_MARGIN_SECONDS = 45.0
PASS_MAX_SECONDS = 900.0  # without a Lambda context (tests, scripts): Lambda's own ceiling


def pass_deadline(context: Any) -> float:
    """When a pass must stop moving bytes, as a time.monotonic() value."""
    import time

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000 if callable(remaining) else PASS_MAX_SECONDS
    return time.monotonic() + max(1.0, seconds - PASS_MARGIN_SECONDS)


def step_handler(
    state: str, finished: Callable[[Any], bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[[dict, Any], dict]]:
    """Turn ``step(job) -> job`` into the Lambda handler of the workflow state ``state``.

    The handler speaks the workflow document and records ``state`` in ``steps_done`` when the step
    finishes, so the revert knows which state a failure happened in. A state that moves data in
    passes gives ``finished(job)``: its step is called as ``step(job, deadline)`` (a
    ``time.monotonic()`` by which the pass must have returned, from the function's remaining time), and
    it counts as done only once ``finished`` says so.
    """

    def decorate(step: Callable[..., Any]) -> Callable[[dict, Any], dict]:
        @functools.wraps(step)
        def handler(event: dict, context: Any) -> dict:
            from image_import.models import ImportJob

            job = ImportJob.model_validate(event)
            logger.append_keys(image_id=job.image_id, task_id=job.task_id, request_id=job.context.request_id)
            try:
                if finished is None:
                    done = step(job)
                else:
                    done = step(job, pass_deadline(context))
                    if not finished(done):
                        return done.to_state()
                return done.model_copy(update={"steps_done": [*done.steps_done, state]}).to_state()
            finally:
                logger.remove_keys(["image_id", "task_id", "request_id"])

        return handler

    return decorate

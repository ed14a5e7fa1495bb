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


def step_handler(state: str) -> Callable[[Callable[[Any], Any]], Callable[[dict, Any], dict]]:
    """Turn ``step(job) -> job`` into the Lambda handler of the workflow state ``state``.

    The handler speaks the workflow document and records ``state`` in ``steps_done`` when the step
    finishes, so the revert knows which state a failure happened in.
    """

    def decorate(step: Callable[[Any], Any]) -> Callable[[dict, Any], dict]:
        @functools.wraps(step)
        def handler(event: dict, context: Any) -> dict:
            from image_import.models import ImportJob

            job = ImportJob.model_validate(event)
            logger.append_keys(image_id=job.image_id, task_id=job.task_id, request_id=job.context.request_id)
            try:
                done = step(job)
                return done.model_copy(update={"steps_done": [*done.steps_done, state]}).to_state()
            finally:
                logger.remove_keys(["image_id", "task_id", "request_id"])

        return handler

    return decorate

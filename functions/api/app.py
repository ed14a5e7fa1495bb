"""Images API v2 (API Gateway Lambda proxy). The resolver lives in image_import.api.app, routes in image_import.api.routes."""

import threading

from image_import.api.app import app
from image_import.observability import logger

# The resolver (and the logger's correlation id) keep the current event in module state. Lambda hands
# a sandbox one event at a time; the local stack runs concurrent requests on threads of one process,
# so there they take turns here.
_one_event_at_a_time = threading.Lock()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def _resolve(event, context):
    return app.resolve(event, context)


def handler(event, context):
    with _one_event_at_a_time:
        return _resolve(event, context)

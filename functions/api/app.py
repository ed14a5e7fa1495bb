"""Images API v2 (API Gateway Lambda proxy). The resolver lives in image_import.api.app, routes in image_import.api.routes."""

from image_import.api.app import app
from image_import.observability import logger


# The resolver and the Logger keep the current event in module state: a Lambda sandbox takes one event
# at a time (and so does each sandbox of the local stack's pool).
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event, context):
    return app.resolve(event, context)

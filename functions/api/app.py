"""Images API v2 (API Gateway Lambda proxy). Routes live in image_import.api.routes."""

from image_import.api.routes import app
from image_import.observability import logger


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event, context):
    return app.resolve(event, context)

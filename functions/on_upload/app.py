"""S3 ObjectCreated under uploads/ (through the upload queue): stage the image, and import it if asked."""

from image_import.adapters.ports import default_ports
from image_import.config import get_settings
from image_import.flow.uploads import receive_batch
from image_import.observability import logger


@logger.inject_lambda_context
def handler(event, context):
    return receive_batch(event, get_settings(), default_ports())

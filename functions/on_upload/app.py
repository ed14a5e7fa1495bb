"""S3 ObjectCreated under uploads/ (through the upload queue): stage the image, and import it if asked."""

from image_import.adapters.ports import default_ports
from image_import.data.direct_upload import receive_batch
from image_import.observability import logger
from image_import.settings import get_settings


@logger.inject_lambda_context
def handler(event, context):
    return receive_batch(event, get_settings(), default_ports())

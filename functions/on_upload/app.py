"""S3 ObjectCreated under uploads/ (through the upload queue): stage the image, and import it if asked."""

# before anything loads pydantic, or Powertools' batch utility imports every parser model (~70 ms cold)
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from image_import.adapters.ports import default_ports
from image_import.intake.direct_upload import receive_uploads
from image_import.notifications import batched
from image_import.observability import logger
from image_import.settings import get_settings


@logger.inject_lambda_context
@batched  # the invocation's lifecycle events go out together when it returns
def handler(event, context):
    return receive_batch(event, context, get_settings(), default_ports())


def receive_batch(event, context, settings, ports):
    """The upload queue's messages, each an S3 event (S3 never invokes us itself: template.yaml routes every
    ObjectCreated through UploadQueue). Only the messages that failed come back (ReportBatchItemFailures)."""
    if not event.get("Records"):
        return {"batchItemFailures": []}

    def receive_message(record):  # Powertools passes the SQS message by this keyword
        receive_uploads({"Records": [record.raw_event]}, settings, ports)

    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event, receive_message, processor, context)

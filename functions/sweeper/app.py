"""Scheduled sweeper (EventBridge): repairs what crashed imports left behind; returns what it did."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import logger
from image_import.settings import get_settings
from image_import.workflow.sweeper import SweepLimits, sweep


@logger.inject_lambda_context
@batched  # the invocation's lifecycle events go out together when it returns
def handler(event, context):
    return sweep(default_ports(), get_settings(), limits=SweepLimits.from_environment()).as_dict()

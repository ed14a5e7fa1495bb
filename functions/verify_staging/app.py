"""Import step 1: the staged data exists and matches what was recorded at staging."""

from image_import.adapters.ports import default_ports
from image_import.flow import steps
from image_import.observability import step_handler


@step_handler("VerifyStaging")
def handler(job):
    return steps.verify_staging(job, default_ports())

"""Import step 1: the staged data exists and matches what was recorded at staging."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.steps import work as steps


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("VerifyStaging")
def handler(job):
    return steps.verify_staging(job, get_settings(), default_ports())

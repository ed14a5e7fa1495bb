"""Import step: the data is in the store; remove it from staging."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.steps import work as steps


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("DeleteStaging")
def handler(job):
    return steps.delete_staging(job, default_ports())

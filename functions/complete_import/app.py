"""Import step: image active, task success, lock released."""

from image_import.adapters.ports import default_ports
from image_import.flow import steps
from image_import.observability import step_handler


@step_handler("CompleteImport")
def handler(job):
    return steps.complete(job, default_ports())

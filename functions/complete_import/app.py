"""Import step: image active, task success, lock released."""

from image_import.adapters.ports import default_ports
from image_import.observability import step_handler
from image_import.workflow import steps


@step_handler("CompleteImport")
def handler(job):
    return steps.complete(job, default_ports())

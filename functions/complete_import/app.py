"""Import step: image active, task success, lock released (multi-store: the stores that failed reported)."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.steps import work as steps


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("CompleteImport")
def handler(job):
    return steps.complete(job, default_ports(), get_settings())

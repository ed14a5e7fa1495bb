"""Revert path: every failure ends here; each step that ran reverts its own work, last first; the image is
never left 'importing'."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.workflow.revert import revert


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("RevertImport")
def handler(job):
    return revert(job, get_settings(), default_ports())

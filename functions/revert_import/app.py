"""Revert path: every failure ends here; nothing half-written, image never left 'importing'."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.workflow.revert import revert


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("RevertImport")
def handler(job):
    settings = get_settings()
    return revert(job, settings.image_import_plugins, settings, default_ports())

"""Import step: stream staging -> store once, computing size, MD5 and the multihash."""

from image_import.adapters.ports import default_ports
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.workflow import steps


@step_handler("ImportToStore")
def handler(job):
    return steps.import_to_store(job, get_settings(), default_ports())

"""Import step: one pass of the copy staging -> store (server-side parts, read once to hash and inspect); in a
Map iteration (multi-store), one pass of the copy from the first store into another."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.steps import work as steps


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("ImportToStore", finished=lambda job: bool(job.store_copy and job.store_copy.done))
def handler(job, deadline):
    return steps.store_pass(job, get_settings(), default_ports(), deadline)

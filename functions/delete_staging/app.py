"""Import step: the data is in the store; remove it from staging.

The step's execute and revert are in image_import.steps.chain (build_chain)."""

from image_import.notifications import batched
from image_import.steps.chain import run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(job, context):
    return run_step("DeleteStaging", job, context)

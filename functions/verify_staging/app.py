"""Import step 1: the staged data exists and matches what was recorded at staging.

The step's execute and revert are in image_import.steps.chain (build_chain)."""

from image_import.notifications import batched
from image_import.steps.chain import run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(job, context):
    return run_step("VerifyStaging", job, context)

"""Import step: image active, task success, lock released (multi-store: the stores that failed reported).

The step's execute and revert are in image_import.steps.chain (build_chain)."""

from image_import.notifications import batched
from image_import.steps.chain import run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(job, context):
    return run_step("CompleteImport", job, context)

"""web-download step: fetch the user's URI (checked again, address pinned) into the staging bucket, in passes.

The step's execute and revert are in image_import.steps.chain (build_chain)."""

from image_import.notifications import batched
from image_import.steps.chain import run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(job, context):
    return run_step("WebDownload", job, context)

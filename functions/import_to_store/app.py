"""Import step: one pass of the copy staging -> store (server-side parts, read once to hash and inspect); in a
Map iteration (multi-store), one pass of the copy from the first store into another.

The step's execute and revert are in image_import.steps.chain (build_chain)."""

from image_import.notifications import batched
from image_import.steps.chain import run_step


@batched  # the invocation's lifecycle events go out together when it returns
def handler(job, context):
    return run_step("ImportToStore", job, context)

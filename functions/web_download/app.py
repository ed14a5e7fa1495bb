"""web-download step: fetch the user's URI (checked again, address pinned) into the staging bucket, in passes."""

from image_import.adapters.ports import default_ports
from image_import.notifications import batched
from image_import.observability import step_handler
from image_import.settings import get_settings
from image_import.steps import web_download


@batched  # the invocation's lifecycle events go out together when it returns
@step_handler("WebDownload", finished=lambda job: bool(job.download and job.download.done))
def handler(job, deadline):
    return web_download.download(job, get_settings(), default_ports(), deadline)

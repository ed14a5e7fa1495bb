"""web-download step: fetch the user's URI (checked again, address pinned) into the staging bucket."""

from image_import.adapters.ports import default_ports
from image_import.config import get_settings
from image_import.flow import web_download
from image_import.observability import step_handler


@step_handler("WebDownload")
def handler(job):
    return web_download.download(job, get_settings(), default_ports())

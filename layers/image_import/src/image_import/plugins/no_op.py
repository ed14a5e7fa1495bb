"""``no_op``: does nothing; shows that the chain is wired."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from image_import.plugins.base import ImportPlugin, PluginJob

logger = Logger(child=True)


class NoOpPlugin(ImportPlugin):
    name = "no_op"

    def execute(self, job: PluginJob) -> None:
        logger.debug("No_op import plugin", extra={"task_id": job.task_id})

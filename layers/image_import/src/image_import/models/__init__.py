"""Pydantic models: image and task records, the request context, the workflow document."""

from image_import.models.context import RequestContext
from image_import.models.image import Image
from image_import.models.job import ImportJob
from image_import.models.task import Task

__all__ = ["Image", "ImportJob", "RequestContext", "Task"]

"""The records and values every room shares: image and task records, the request context, the workflow
document, ids, times, the Caller and the image lifecycle.

The record names are loaded on first use (PEP 562), so a module that needs only a light value (the
authorizer's ``models.caller``) does not pay pydantic's import on its cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from image_import.models.context import RequestContext
    from image_import.models.image import Image
    from image_import.models.job import ImportJob
    from image_import.models.task import Task

_HOMES = {
    "RequestContext": "image_import.models.context",
    "Image": "image_import.models.image",
    "ImportJob": "image_import.models.job",
    "Task": "image_import.models.task",
}

__all__ = ["Image", "ImportJob", "RequestContext", "Task"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value

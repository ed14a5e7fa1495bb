"""The plugin contract.

A plugin is a class published under the entry-point group ``glance.image_import.plugins``
(the group Glance uses). It is built once per Lambda container with the operator settings and
must reject bad options in its constructor (raise ConfigError): that makes a misconfigured
plugin fail at build/start time, not during someone's import. Each import calls ``execute``;
if a later step fails, ``revert`` is called for every plugin whose ``execute`` finished, in
reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from image_import.models import Image, RequestContext

if TYPE_CHECKING:
    from image_import.settings import Settings
    from image_import.workflow.actions import ImageActions


@dataclass
class PluginJob:
    """What a plugin sees of one import."""

    task_id: str
    method: str
    context: RequestContext  # the importing user (roles included)
    staging_key: str  # where the data is in the staging bucket
    actions: ImageActions  # the only way to change the image

    @property
    def image(self) -> Image:
        """A fresh copy of the image record."""
        return self.actions.current()

    def set_properties(self, properties: dict[str, str]) -> None:
        """Set extra properties as the service (os_glance_* keys are dropped)."""
        self.actions.set_extra_properties(properties)


class ImportPlugin:
    name: ClassVar[str] = ""

    def __init__(self, settings: Settings):
        self.settings = settings

    def execute(self, job: PluginJob) -> None:
        raise NotImplementedError

    def revert(self, job: PluginJob) -> None:
        """Undo what execute did; the default has nothing to undo."""

"""A project's limits: from Keystone (``use_keystone_limits``) or from configuration (settings/limits.py)."""

from __future__ import annotations

import functools
from typing import Protocol

from image_import.models.quota import RESOURCES
from image_import.settings import Settings


class LimitSource(Protocol):
    def limits(self, project_id: str) -> dict[str, int]:
        """Every name in RESOURCES -> its limit for the project (-1: unlimited)."""
        ...


@functools.cache  # one per Settings: the Keystone source keeps its token and endpoint for the sandbox
def source(settings: Settings) -> LimitSource | None:
    """Where the limits come from; None when the site has no quotas."""
    if settings.use_keystone_limits:
        from image_import.quotas.keystone import KeystoneLimits

        return KeystoneLimits(settings)
    return settings.configured_limits


def limits_of(project_id: str, settings: Settings) -> dict[str, int] | None:
    """The project's limits by name, in RESOURCES' order; None: no quotas here."""
    found = source(settings)
    if found is None:
        return None
    limits = found.limits(project_id)
    return {name: limits.get(name, 0) for name in RESOURCES}

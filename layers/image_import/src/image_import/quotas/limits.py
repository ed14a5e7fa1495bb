"""The limit names and the source of limits (the lead's module: this stub holds only the contract)."""

from __future__ import annotations

from typing import Protocol

RESOURCES = ("image_size_total", "image_stage_total", "image_count_total", "image_count_uploading")


class LimitSource(Protocol):
    def limits(self, project_id: str) -> dict[str, int]: ...  # every name in RESOURCES -> limit; -1 unlimited

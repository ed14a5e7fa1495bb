"""A metadata-definition namespace record (Glance's ``metadef_namespaces`` row), as the metadefs table keeps it.

What the namespace holds (objects, properties, tags, resource-type associations) stays plain JSON documents
in the shapes Glance returns (metadefs/shapes.py). ``seq`` (stored as ``_seq``) orders records created in the
same second: the table stamps it on the first write, a rewrite keeps it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MetadefNamespace(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="ignore")

    # in Glance's key order (what the API shows)
    namespace: str
    display_name: str | None = None
    description: str | None = None
    visibility: str = "private"
    protected: bool = False
    owner: str | None = None
    created_at: str
    updated_at: str
    seq: int | None = Field(default=None, alias="_seq")

    def document(self) -> dict[str, Any]:
        """The stored JSON document: what is set, ``seq`` as ``_seq``."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def fields(self) -> dict[str, Any]:
        """The record's own fields as Glance shows them, in its order (no ``seq``; what is unset left out)."""
        return {key: value for key, value in self.model_dump(exclude={"seq"}).items() if value is not None}

"""The one form an id is stored and compared in: a UUID in lower case.

Glance keeps an id as it was given, but its database (MySQL) compares ids case-insensitively, so
``POST /v2/images`` with the upper-case spelling of an existing (or deleted) id is its 409, and
``GET /v2/images/<ID IN UPPER CASE>`` is the image. DynamoDB and S3 compare bytes: here an id is
lower-cased wherever it comes in (the models' fields, the API's path parameters, list markers and
filters, the repositories' keys), so no two records, tombstones or keys can differ only by case.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

UUID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def canonical_id(value: str) -> str:
    """``value`` in lower case when it is a UUID in the 8-4-4-4-12 form (ASCII only: ``str.lower`` of
    other text could make a new id); anything else as it is, since no record has such an id."""
    return value.lower() if UUID_FORM.fullmatch(value) else value


# A model field holding an image or task id: stored in the canonical form whatever it was built from
CanonicalId = Annotated[str, AfterValidator(canonical_id)]

"""Read the embedded-metric-format lines a test printed, as (name, value, dimensions) tuples."""

from __future__ import annotations

import json


def emitted_metrics(text: str) -> list[tuple[str, float, dict[str, str]]]:
    found = []
    for line in text.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            dimensions = {d: document[d] for names in directive["Dimensions"] for d in names if d != "service"}
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                found.append((metric["Name"], value[0] if isinstance(value, list) else value, dimensions))
    return found

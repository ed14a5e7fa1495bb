"""An in-memory metadata-definitions store (the fake of the MetadefRecords port)."""

from __future__ import annotations

import json
from typing import Any


class MemoryMetadefStore:
    """The MetadefRecords port in memory (the DynamoDB adapter's contract, without DynamoDB)."""

    def __init__(self):
        self.items: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.types: dict[str, dict[str, Any]] = {}
        self.seq = 0

    def _stamp(self, record: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return json.loads(json.dumps({**record, "_seq": record.get("_seq") or self.seq}))

    def namespaces(self):
        return self._ordered(r for (_, kind, _), r in self.items.items() if kind == "namespace")

    def namespace(self, name):
        return self.child(name, "namespace", "")

    def contents(self, name, kind):
        return self._ordered(r for (ns, k, _), r in self.items.items() if ns == name and k == kind)

    def child(self, name, kind, key):
        record = self.items.get((name, kind, key))
        return json.loads(json.dumps(record)) if record else None

    def add(self, name, kind, key, record):
        if (name, kind, key) in self.items:
            return False
        self.items[(name, kind, key)] = self._stamp(record)
        return True

    def put(self, name, kind, key, record):
        self.items[(name, kind, key)] = self._stamp(record)

    def remove(self, name, kind, key):
        return self.items.pop((name, kind, key), None) is not None

    def remove_all(self, name, kind=None):
        for key in [k for k in self.items if k[0] == name and (kind is None or k[1] == kind)]:
            del self.items[key]

    def resource_types(self):
        return self._ordered(self.types.values())

    def add_resource_type(self, record):
        if record["name"] in self.types:
            return False
        self.types[record["name"]] = self._stamp(record)
        return True

    @staticmethod
    def _ordered(records):
        return sorted(records, key=lambda r: r["_seq"])

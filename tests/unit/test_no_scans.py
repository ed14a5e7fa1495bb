"""The service never reads a whole table: its lists and the sweeper read indexes, so no repository and no
port offers a scan (tests read tables through tests/support/records.py)."""

from __future__ import annotations

from image_import.adapters import ports, records


def test_no_record_port_or_repository_offers_a_scan():
    offering = [
        kind.__name__
        for kind in (
            ports.ImageRecords,
            ports.ImageIndex,
            ports.TaskRecords,
            records.ImageRepository,
            records.ImageIndexes,
            records.TaskRepository,
        )
        if hasattr(kind, "scan")
    ]
    assert offering == []

"""Quotas: Glance's unified limits, exact under concurrency.

* ``limits``: where a project's limits come from (Keystone, or configuration);
* ``admission``: the claims each operation makes, where Glance enforces them, and Glance's 413;
* ``repair``: counters recomputed from the records (the sweeper).

The counters themselves, and what an image counts, are models/quota.py; the store keeps them in the
image's own transactions (adapters/records/images.py, records/usage.py).
"""

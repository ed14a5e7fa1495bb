"""The process's composition root: every cache that holds configuration or what was built from it.

A Lambda container builds these once (settings, resource names, default ports, boto3 clients,
the policy engine, the identity validator, the plugins, the store buckets, the limit source) and
keeps them for its life. Tests and the local stack that change the environment or the configuration
call :func:`reset` to start afresh: one list, so a new cache cannot be forgotten in some test's
hand-written clean-up (``tests/unit/test_composition.py`` fails on a ``functools.cache`` in the
package that is in neither list).
"""

from __future__ import annotations

import importlib

# module, cached function: what reset() clears, private ones included
CACHES: tuple[tuple[str, str], ...] = (
    ("image_import.settings.model", "_cached_settings"),
    ("image_import.settings.environment", "get_resources"),
    ("image_import.adapters.ports", "default_ports"),
    ("image_import.adapters.aws", "_client"),
    ("image_import.adapters.aws", "_client_with"),
    ("image_import.adapters.aws", "presigner"),
    ("image_import.adapters.events", "_client"),
    ("image_import.policy.rules", "engine"),
    ("image_import.identity.authenticate", "validator_for"),
    ("image_import.plugins.registry", "_cached"),
    ("image_import.stores.buckets", "_bucket"),
    ("image_import.quotas.limits", "source"),
)

# caches of what the process itself is, never of configuration: they outlive a reset
PROCESS_FACTS: tuple[tuple[str, str], ...] = (
    ("image_import.transfer.hashing", "_libcrypto"),  # the libcrypto hashlib runs on
)


def reset() -> None:
    """Forget every process cache; the next call builds from the current environment and files."""
    for module, name in CACHES:
        getattr(importlib.import_module(module), name).cache_clear()

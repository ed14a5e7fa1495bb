"""The process's composition root: every cache that holds configuration or what was built from it.

A Lambda container builds these once (settings, resource names, default ports, boto3 clients,
the policy engine, the identity validator, the plugins) and keeps them for its life. Tests and
the local stack that change the environment or the configuration call :func:`reset` to start
afresh: one list, so a new cache cannot be forgotten in some test's hand-written clean-up.
"""

from __future__ import annotations


def reset() -> None:
    """Forget every process cache; the next call builds from the current environment and files."""
    from image_import.adapters import aws, events, ports
    from image_import.identity.authenticate import validator_for
    from image_import.plugins import registry
    from image_import.policy.rules import engine
    from image_import.settings import environment, model

    # the one place that knows these caches, private ones included
    model._cached_settings.cache_clear()
    environment.get_resources.cache_clear()
    ports.default_ports.cache_clear()
    aws.reset_clients()
    events.reset_client()
    engine.cache_clear()
    validator_for.cache_clear()
    registry._cached.cache_clear()

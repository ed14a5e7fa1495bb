"""The moto stack of the integration tests, made fast without sharing any state between tests.

Each test still gets a stack of its own, created afresh in a moto that starts empty (nothing a test
writes, configures or runs can reach another test). What is shared, per configuration, is what does
not change while tests run and is slow to make again:

- the translated template (`sam_hook` rendering, SAM translation, settings validation: about half a
  second a stack): one per configuration, keyed by the configuration files' content, the template
  parameters, the large-requests switch and the ``IMAGE_IMPORT_*`` environment, copied for each test
  by ``LocalStack.fresh``.

The boto3 session is not shared: moto makes a new default session for every test (each loads its
service models again, about 0.1 s a client); sharing one across the whole run made imports fail late
in the run (the cause was not found), so each test keeps moto's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

# per-test paths: they name where a test writes, never what the stack is
PER_TEST_VARIABLES = ("IMAGE_IMPORT_LOCAL_STATE", "IMAGE_IMPORT_CONFIG_DIR")

_prepared: dict[tuple, Any] = {}


def configuration_key(config: Path, parameters: Mapping[str, str], large_requests: bool) -> tuple:
    """What a stack's translated template depends on: equal keys, equal templates."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(config).rglob("*") if p.is_file()):
        digest.update(path.relative_to(config).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    environment = tuple(
        sorted(
            (key, value)
            for key, value in os.environ.items()
            if key.startswith("IMAGE_IMPORT_") and key not in PER_TEST_VARIABLES
        )
    )
    return digest.hexdigest(), tuple(sorted(parameters.items())), large_requests, environment


def prepared_stack(
    config: Path,
    *,
    parameters: Mapping[str, str],
    events_file: Path | None,
    large_requests: bool,
):
    """A LocalStack for ``config``, not created yet: a fresh copy of this configuration's translated template."""
    from image_import_dev.local.stack import LocalStack
    from image_import_dev.render import local_sam_hook

    key = configuration_key(config, parameters, large_requests)
    if key not in _prepared:
        _prepared[key] = LocalStack(
            ROOT / "template.yaml",
            name="t",
            sam_hook=local_sam_hook(config),
            parameters=dict(parameters),
            large_requests=large_requests,
        )
    local = _prepared[key].fresh()
    local.env_overrides["IMAGE_IMPORT_CONFIG_DIR"] = str(config)  # this test's copy, which it may edit
    local.events_file = events_file
    return local

"""tempest's unified-limits scenario (ImageQuotaTest) against the local stack behind a real Keystone.

The quotas come from Keystone ([DEFAULT] use_keystone_limits, [oslo_limit] naming our image endpoint):
the harness registers the four limits for the "glance" service, as an operator would; tempest's system
admin gives its project limits of its own and changes them between requests, and expects the next
request to see the change. What runs: harness.LIMITS_EXPECTED.
"""

from __future__ import annotations

import pytest

from tests.tempest import harness

pytestmark = pytest.mark.e2e


def test_the_unified_limits_run_lists_each_test_once_and_registers_every_limit():
    assert len(set(harness.LIMITS_EXPECTED)) == len(harness.LIMITS_EXPECTED) == 4
    from image_import.models.quota import RESOURCES

    assert set(harness.LIMITS_REGISTERED) == set(RESOURCES)


def test_tempest_image_quota_tests_pass_with_the_limits_in_keystone(keystone, tmp_path):
    if not harness.tempest_available():
        pytest.skip("tempest is not installed: pip install tempest (it is in the dev extras)")
    with harness.tempest_workspace(tmp_path, keystone, limits=True) as workspace:
        run = harness.run_tempest(workspace, concurrency=1)
    not_ok = {test: result for test, result in run.results.items() if result != "ok"}
    assert run.returncode == 0 and not not_ok, f"{not_ok}\n{run.output[-15000:]}"
    ran = {test.removeprefix(harness.LIMITS_PREFIX) for test in run.results}
    missing = sorted(set(harness.LIMITS_EXPECTED) - ran)
    assert not missing, f"tempest did not run {missing}:\n{run.output[-5000:]}"

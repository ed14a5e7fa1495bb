"""OpenStack tempest's image API v2 tests against the local stack behind a real Keystone.

Tempest is a client nobody here wrote: if its tests fail against us, we are wrong. Keystone
(tests/keystone_server.py) gets an ``image`` service whose public endpoint is the local stack;
tempest makes its own projects and users with the admin credentials and finds us in the catalog.
What runs, and what does not with the reason, is listed in tests/tempest/harness.py.
"""

from __future__ import annotations

import pytest

from tests.tempest import harness

pytestmark = pytest.mark.e2e


def test_the_lists_of_run_and_excluded_tempest_tests_do_not_overlap():
    assert not set(harness.EXPECTED) & set(harness.EXCLUDED)
    assert len(set(harness.EXPECTED)) == len(harness.EXPECTED)


def test_tempest_image_api_v2_tests_pass_against_the_local_stack_behind_keystone(keystone, tmp_path):
    if not harness.tempest_available():
        pytest.skip("tempest is not installed: pip install tempest (it is in the dev extras)")
    with harness.tempest_workspace(tmp_path, keystone) as workspace:
        run = harness.run_tempest(workspace)
    not_ok = {test: result for test, result in run.results.items() if result != "ok"}
    assert run.returncode == 0 and not not_ok, f"{not_ok}\n{run.output[-15000:]}"
    ran = {test.removeprefix(harness.PREFIX) for test in run.results}
    missing = sorted(set(harness.EXPECTED) - ran)
    assert not missing, f"tempest did not run {missing}:\n{run.output[-5000:]}"

"""tempest's multi-store image tests against the local stack on config/examples/multi-store (three S3 stores,
one in a second region), behind a real Keystone. What runs: harness.MULTI_STORE_EXPECTED."""

from __future__ import annotations

import pytest

from tests.tempest import harness

pytestmark = pytest.mark.e2e


def test_the_multi_store_run_lists_each_test_once():
    assert len(set(harness.MULTI_STORE_EXPECTED)) == len(harness.MULTI_STORE_EXPECTED)
    assert not set(harness.MULTI_STORE_EXPECTED) & set(harness.EXPECTED)


def test_tempest_multi_store_tests_pass_against_the_local_stack(keystone, tmp_path):
    if not harness.tempest_available():
        pytest.skip("tempest is not installed: pip install tempest (it is in the dev extras)")
    with harness.tempest_workspace(tmp_path, keystone, multi_store=True) as workspace:
        run = harness.run_tempest(workspace)
    not_ok = {test: result for test, result in run.results.items() if result != "ok"}
    assert run.returncode == 0 and not not_ok, f"{not_ok}\n{run.output[-15000:]}"
    ran = {test.removeprefix(harness.PREFIX) for test in run.results}
    missing = sorted(set(harness.MULTI_STORE_EXPECTED) - ran)
    assert not missing, f"tempest did not run {missing}:\n{run.output[-5000:]}"

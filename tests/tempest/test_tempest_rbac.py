"""Glance's secure-RBAC persona tests (glance-tempest-plugin) against the local stack behind a real Keystone.

With ``[enforce_scope] glance = true`` the plugin runs every image and member call as a project
admin, member and reader, against images of their own and of an "alt" project, and checks that a
system-scoped admin may do nothing (``[glance_api] system_scope_supported = false``, as in Glance).
Tempest's dynamic credentials make those users, projects and system role assignments in Keystone
with its admin (the bootstrap admin holds ``admin`` on the system). What runs, and what does not
with the reason, is listed in tests/tempest/harness.py (RBAC_*).
"""

from __future__ import annotations

import re

import pytest

from tests.tempest import harness

pytestmark = pytest.mark.e2e


def test_the_rbac_lists_name_existing_tests_and_do_not_overlap():
    assert not set(harness.RBAC_EXPECTED) & set(harness.RBAC_EXCLUDED)
    assert len(set(harness.RBAC_EXPECTED)) == len(harness.RBAC_EXPECTED)
    named = {f"{c}.{t}" for c in harness.RBAC_CLASSES for t in harness.RBAC_TESTS}
    named |= {f"{c}.{t}" for c, tests in harness.RBAC_METADEF_CLASSES.items() for t in tests}
    assert not set(harness.RBAC_METADEF_CLASSES) & set(harness.RBAC_METADEF_BY_HAND)
    assert set(harness.RBAC_EXCLUDED) <= named


def test_every_metadef_persona_class_the_harness_names_exists_in_the_plugin():
    if not harness.plugin_available():
        pytest.skip("glance-tempest-plugin is not installed (it is in the dev extras)")
    import importlib

    for name, tests in {**harness.RBAC_METADEF_CLASSES, **harness.RBAC_METADEF_BY_HAND}.items():
        module, cls = name.rsplit(".", 1)
        found = getattr(importlib.import_module(harness.RBAC_PREFIX + module), cls)
        assert all(callable(getattr(found, test, None)) for test in tests), name
    assert len(harness.RBAC_METADEF_CLASSES) == len(harness.RBAC_METADEF_BY_HAND) == 15  # 5 kinds x 3 personas


def test_the_rbac_include_list_matches_ids_with_and_without_an_idempotent_id():
    def included(test_id: str) -> bool:
        return any(re.match(pattern, harness.RBAC_PREFIX + test_id) for pattern in harness.rbac_include_list())

    assert included("test_project_admin_tests.ImageProjectAdminTests.test_get_image[id-1,rbac]")
    assert included("metadefs.test_tags.ProjectAdminTests.test_get_tags")
    assert not included("metadefs.test_tags.ProjectAdminTests.test_get_tags_x")
    assert not included("test_project_admin_tests.TagsProjectAdminTests.test_get_tags")  # run by hand only


def test_the_rbac_run_enforces_scope_and_keeps_the_rest_of_the_conf():
    conf = harness.rbac_conf(harness.TEMPEST_CONF)
    assert "[enforce_scope]\nglance = true\n" in conf and "glance = false" not in conf
    assert "[glance_api]\n" in conf and "system_scope_supported = false" in conf
    assert conf.startswith(harness.TEMPEST_CONF.split("[enforce_scope]")[0])


def test_glance_rbac_persona_tests_pass_against_the_local_stack_behind_keystone(keystone, tmp_path):
    if not harness.tempest_available() or not harness.plugin_available():
        pytest.skip("tempest or glance-tempest-plugin is not installed (both are in the dev extras)")
    with harness.tempest_workspace(tmp_path, keystone, rbac=True) as workspace:
        run = harness.run_tempest(workspace, concurrency=harness.RBAC_CONCURRENCY)
    not_ok = {test: result for test, result in run.results.items() if result != "ok"}
    assert run.returncode == 0 and not not_ok, f"{not_ok}\n{run.output[-15000:]}"
    ran = {test.removeprefix(harness.RBAC_PREFIX) for test in run.results}
    missing = sorted(set(harness.RBAC_EXPECTED) - ran)
    assert not missing, f"tempest did not run {missing}:\n{run.output[-5000:]}"

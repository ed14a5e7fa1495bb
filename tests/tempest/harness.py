"""OpenStack tempest's image tests against the local stack behind a real Keystone.

Pieces used by tests/tempest/test_tempest_image.py, and by hand:

    .venv/bin/python -m tests.tempest.harness [--rbac | --multi-store | --limits] [REGEX]

starts Keystone (tests/keystone_server.py), the local stack behind it, a web server for
web-download, writes a tempest workspace and runs tempest on it (REGEX, default: the chosen set),
leaving the workspace in place for `stestr last` and a re-run. ``--rbac``: glance-tempest-plugin's
secure-RBAC persona tests (RBAC_EXPECTED) with scope enforced, instead of tempest's image tests.
``--limits``: tempest's unified-limits scenario (LIMITS_EXPECTED), the quotas read from Keystone.
"""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.keystone_server import Keystone, _ok
from tests.support.config import set_option
from tests.support.paths import ROOT

PREFIX = "tempest.api.image.v2."

# What we run: tempest's image API v2 tests for what this service implements. Each must pass.
EXPECTED = [
    "test_images.BasicOperationsImagesTest.test_deactivate_reactivate_image",
    "test_images.BasicOperationsImagesTest.test_delete_image",
    "test_images.BasicOperationsImagesTest.test_register_upload_get_image_file",
    "test_images.BasicOperationsImagesTest.test_update_image",
    "test_images.ImportImagesTest.test_image_glance_direct_import",
    "test_images.ImportImagesTest.test_image_web_download_import",
    # through the second catalog endpoint (ALTERNATE_SERVICE_TYPE): the same stack, staging shared in S3
    "test_images.ImportImagesTest.test_remote_delete",
    "test_images.ImportImagesTest.test_remote_import",
    "test_images.ListUserImagesTest.test_get_image_schema",
    "test_images.ListUserImagesTest.test_get_images_schema",
    "test_images.ListUserImagesTest.test_list_hidden_image",
    "test_images.ListUserImagesTest.test_list_image_param_owner",
    "test_images.ListUserImagesTest.test_list_images_param_container_format",
    "test_images.ListUserImagesTest.test_list_images_param_disk_format",
    "test_images.ListUserImagesTest.test_list_images_param_limit",
    "test_images.ListUserImagesTest.test_list_images_param_min_max_size",
    "test_images.ListUserImagesTest.test_list_images_param_name",
    "test_images.ListUserImagesTest.test_list_images_param_size",
    "test_images.ListUserImagesTest.test_list_images_param_sort",
    "test_images.ListUserImagesTest.test_list_images_param_sort_key_dir",
    "test_images.ListUserImagesTest.test_list_images_param_status",
    "test_images.ListUserImagesTest.test_list_images_param_tag",
    "test_images.ListUserImagesTest.test_list_images_param_visibility",
    "test_images.ListUserImagesTest.test_list_no_params",
    "test_images.ListUserImagesTest.test_list_update_hidden_image",
    "test_images.ListSharedImagesTest.test_list_images_param_member_status",
    "test_images_member.ImagesMemberTest.test_get_image_member",
    "test_images_member.ImagesMemberTest.test_get_image_member_schema",
    "test_images_member.ImagesMemberTest.test_get_image_members_schema",
    "test_images_member.ImagesMemberTest.test_image_share_accept",
    "test_images_member.ImagesMemberTest.test_image_share_reject",
    "test_images_member.ImagesMemberTest.test_remove_image_member",
    "test_images_member_negative.ImagesMemberNegativeTest.test_image_share_invalid_status",
    "test_images_member_negative.ImagesMemberNegativeTest.test_image_share_owner_cannot_accept",
    "test_images_negative.ImagesNegativeTest.test_create_image_reserved_property",
    "test_images_negative.ImagesNegativeTest.test_delete_image_null_id",
    "test_images_negative.ImagesNegativeTest.test_delete_non_existing_image",
    "test_images_negative.ImagesNegativeTest.test_delete_protected_image",
    "test_images_negative.ImagesNegativeTest.test_get_delete_deleted_image",
    "test_images_negative.ImagesNegativeTest.test_get_image_null_id",
    "test_images_negative.ImagesNegativeTest.test_get_non_existent_image",
    "test_images_negative.ImagesNegativeTest.test_register_with_invalid_container_format",
    "test_images_negative.ImagesNegativeTest.test_register_with_invalid_disk_format",
    "test_images_negative.ImagesNegativeTest.test_update_image_reserved_property",
    "test_images_tags.ImagesTagsTest.test_update_delete_tags_for_image",
    "test_images_tags_negative.ImagesTagsNegativeTest.test_delete_non_existing_tag",
    "test_images_tags_negative.ImagesTagsNegativeTest.test_update_tags_for_non_existing_image",
    "test_versions.VersionsTest.test_list_versions",
    "admin.test_image_task.ImageTaskCreate.test_task_create_fake_image_location",
    "admin.test_images.BasicOperationsImagesAdminTest.test_create_image_owner_param",
    "admin.test_images.BasicOperationsImagesAdminTest.test_list_public_image",
    "admin.test_images.BasicOperationsImagesAdminTest.test_update_image_owner_param",
    # metadata definitions (the namespaces and resource types tests need a resource type to exist:
    # the workspace loads tests/fixtures/metadefs first, as devstack runs glance-manage db_load_metadefs)
    *(
        f"test_images_metadefs_schema.MetadataSchemaTest.test_get_metadata_{name}_schema"
        for name in ("namespace", "namespaces", "object", "objects", "property", "properties", "tag", "tags")
        + ("resource_type", "resources_types")
    ),
    "admin.test_images_metadefs_namespace_objects.MetadataNamespaceObjectsTest.test_create_update_delete_meta_namespace_objects",
    "admin.test_images_metadefs_namespace_objects.MetadataNamespaceObjectsTest.test_list_meta_namespace_objects",
    "admin.test_images_metadefs_namespace_objects.MetadataNamespaceObjectsTest.test_show_meta_namespace_objects",
    "admin.test_images_metadefs_namespace_properties.MetadataNamespacePropertiesTest.test_basic_meta_def_namespace_property",
    "admin.test_images_metadefs_namespace_tags.MetadataNamespaceTagsTest.test_create_list_delete_namespace_tags",
    "admin.test_images_metadefs_namespace_tags.MetadataNamespaceTagsTest.test_create_update_delete_tag",
    "admin.test_images_metadefs_namespaces.MetadataNamespacesTest.test_basic_metadata_definition_namespaces",
    "admin.test_images_metadefs_resource_types.MetadataResourceTypesTest.test_basic_meta_def_resource_type_association",
]

# Tests of the same classes that we do not run, and why.
EXCLUDED = {
    # an import method that pulls from another Glance region; ours are glance-direct and web-download
    # (tempest would skip these itself, as info/import does not list the method)
    "test_images.ImportImagesTest.test_image_glance_download_import_success": "glance-download not implemented",
    "test_images.ImportImagesTest.test_image_glance_download_import_bad_uuid": "glance-download not implemented",
    "test_images.ImportImagesTest.test_image_glance_download_import_bad_endpoint": "glance-download not implemented",
    "test_images.ImportImagesTest.test_image_glance_download_import_bad_missing_image": "glance-download not implemented",
    # tempest itself skips it (skip_because bug 2030527); tests/integration/test_tasks_api.py does what it does
    "admin.test_image_task.ImageTaskCreate.test_image_tasks_create": "skipped by tempest (bug 2030527)",
    # its setUpClass skips unless GET /v2/info/stores lists stores (404 with a single store, as in
    # Glance): it runs in the multi-store run (MULTI_STORE_EXPECTED)
    "test_images_negative.ImportImagesNegativeTest.test_image_web_download_import_with_bad_url": (
        "multi-store only: in the multi-store run"
    ),
}

# The multi-store run (``--multi-store``; tests/tempest/test_tempest_multi_store.py): the local stack on
# config/examples/multi-store (three S3 stores, one in a second region), tempest with store weights on.
# (This tempest's MultiStoresImportImagesTest has these two tests; its other methods are BasicOperationsImagesTest's,
# run in the single-store run.) About 60 s: Keystone, the local stack, 6 tests on two workers (~20 s).
MULTI_STORE_EXPECTED = [
    "test_images.MultiStoresImportImagesTest.test_glance_direct_import_image_to_all_stores",
    "test_images.MultiStoresImportImagesTest.test_glance_direct_import_image_to_specific_stores",
    "admin.test_images.MultiStoresImagesTest.test_delete_image_from_specific_store",
    "admin.test_images.ImportCopyImagesTest.test_image_copy_image_import",
    "test_images.StoreWeightTest.test_store_weight_order",
    "test_images_negative.ImportImagesNegativeTest.test_image_web_download_import_with_bad_url",
]
MULTI_STORE_CONFIG = ROOT / "config" / "examples" / "multi-store"
MULTI_STORE_CONF_CHANGES = {"http_store_enabled = false\n": "http_store_enabled = false\nstore_weight_enabled = true\n"}

# Elsewhere in tempest.api.image.v2, not run at all, and why.
NOT_RUN = {
    "test_images.MultistoreLocationImportTest": "adds locations (PATCH/add-location): the locations API is not implemented",
    "test_images.ImageLocationsTest, LocationImportTest, HashCalculationRemoteDeletionTest": "locations API not implemented",
    "test_images_formats, test_images_dependency": "out of scope (format inspection, nova)",
    "admin/test_image_caching": "the image cache API is not implemented (no cache: data is served from S3)",
    "admin/test_images.ImportCopyImagesTest, MultiStoresImagesTest": "single store (copy-image needs several)",
    "admin/test_images.ImageLocationsAdminTest": "locations API not implemented",
}

# The unified-limits run (``--limits``; tests/tempest/test_tempest_unified_limits.py): the quotas from Keystone
# ([DEFAULT] use_keystone_limits, [oslo_limit] naming our image endpoint). The operator's part is done here:
# registered limits for the "glance" service (tempest finds it by that name) and the glance service user's
# reader role on the system; tempest's system admin sets its project's limits and changes them between calls.
LIMITS_PREFIX = "tempest.scenario.test_unified_limits."
LIMITS_EXPECTED = [
    f"ImageQuotaTest.test_{name}_quota"
    for name in ("image_count", "image_count_uploading", "image_size", "image_stage")
]
# the registered (default) limits: tempest overrides each with a project limit of its own projects
LIMITS_REGISTERED = {"image_size_total": 1000, "image_stage_total": 1000, "image_count_total": 100}
LIMITS_REGISTERED |= {"image_count_uploading": 10}
# where the image endpoint points until the local stack has its port (the endpoint id goes in its configuration)
PENDING_URL = "http://127.0.0.1:9/pending"

# Glance's secure-RBAC persona tests (glance-tempest-plugin, tests/rbac/v2), run with
# [enforce_scope] glance = true: each persona (project admin, member, reader, and their "alt"
# projects) against every image and member call, and a system-scoped admin that may do nothing
# (docs/decisions.md, "tenants and scope"). Test ids are RBAC_PREFIX + module.Class.test.
RBAC_PREFIX = "glance_tempest_plugin.tests.rbac.v2."
RBAC_CLASSES = {
    "test_project_admin_tests.ImageProjectAdminTests",
    "test_project_members_tests.ImagesProjectMemberTests",
    "test_project_reader_tests.ImagesProjectReaderTests",
}
RBAC_TESTS = [
    "test_create_image",
    "test_get_image",
    "test_list_images",
    "test_update_image",
    "test_upload_image",
    "test_download_image",
    "test_delete_image",
    "test_add_image_member",
    "test_get_image_member",
    "test_list_image_members",
    "test_update_image_member",
    "test_delete_image_member",
    "test_deactivate_image",
    "test_reactivate_image",
]
# Of those, the ones we do not run, and why.
RBAC_EXCLUDED: dict[str, str] = {}
RBAC_EXPECTED = [
    f"{cls}.{test}" for cls in sorted(RBAC_CLASSES) for test in RBAC_TESTS if f"{cls}.{test}" not in RBAC_EXCLUDED
]
# one worker a class: each class makes its own personas in Keystone, which is the slow part
RBAC_CONCURRENCY = 3
# The metadata-definitions personas, in two places of the plugin: tests/rbac/v2/metadefs/
# (Project{Admin,Member,Reader}Tests in each module) and the Namespaces*, RSTypes*, Objects*, Properties*,
# Tags* classes of the persona modules. All 144 pass with Glance's default metadef policies. CI runs the
# first 72: the second set makes the same calls as the same personas (the two differ in a few
# assertions), and each class makes its own Keystone users, so both would add ~4 minutes rather than ~2
# (docs/decisions.md). Run the other set by hand: `harness --rbac 'test_project_\w+\.(Namespaces|RSTypes|
# Objects|Properties|Tags)'`.
RBAC_METADEF_TESTS = {
    "Namespaces": ["test_create_namespace", "test_delete_namespace", "test_get_namespace", "test_list_namespaces",
                   "test_update_namespace"],
    "RSTypes": ["test_create_resource_type", "test_delete_resource_type", "test_get_resource_type",
                "test_list_resource_types"],
    "Objects": ["test_create_object", "test_delete_object", "test_get_object", "test_list_objects",
                "test_update_object"],
    "Properties": ["test_create_property", "test_delete_properties", "test_get_properties", "test_list_properties",
                   "test_update_properties"],
    "Tags": ["test_create_tag", "test_delete_tags", "test_get_tags", "test_list_tags", "test_update_tags"],
}  # fmt: skip
RBAC_METADEF_MODULES = {"Namespaces": "namespaces", "RSTypes": "resource_types", "Objects": "objects"}
RBAC_METADEF_MODULES |= {"Properties": "properties", "Tags": "tags"}
RBAC_PERSONA_MODULES = {"Admin": "test_project_admin_tests", "Member": "test_project_members_tests"}
RBAC_PERSONA_MODULES |= {"Reader": "test_project_reader_tests"}
RBAC_METADEF_CLASSES = {
    f"metadefs.test_{RBAC_METADEF_MODULES[kind]}.Project{persona}Tests": tests
    for kind, tests in RBAC_METADEF_TESTS.items()
    for persona in RBAC_PERSONA_MODULES
}
RBAC_METADEF_BY_HAND = {
    f"{module}.{kind}Project{persona}Tests": tests
    for kind, tests in RBAC_METADEF_TESTS.items()
    for persona, module in RBAC_PERSONA_MODULES.items()
}
RBAC_EXPECTED += [
    f"{cls}.{test}" for cls, tests in sorted(RBAC_METADEF_CLASSES.items()) for test in tests
    if f"{cls}.{test}" not in RBAC_EXCLUDED
]  # fmt: skip

TEMPEST_CONF = """\
[DEFAULT]
log_file = {workspace}/tempest.log
debug = true

[auth]
use_dynamic_credentials = true
admin_username = {admin.name}
admin_password = {admin.password}
admin_project_name = {admin.project}
admin_domain_name = Default

[identity]
auth_version = v3
uri_v3 = {keystone_url}
region = RegionOne
disable_ssl_certificate_validation = true

[identity-feature-enabled]
api_v2 = false

[service_available]
glance = true
cinder = false
neutron = false
nova = false
swift = false
horizon = false
barbican = false

[image]
region = RegionOne
catalog_type = image
endpoint_type = publicURL
container_formats = bare,ami,ari,aki,ovf,ova
disk_formats = qcow2,raw,ami,ari,aki,vhd,vmdk,vdi,iso,vhdx
http_image = {http_image}
http_qcow2_image = {http_qcow2_image}
alternate_image_endpoint = {alternate_service_type}
build_timeout = 60
build_interval = 1

[image-feature-enabled]
api_v2 = true
import_image = true
os_glance_reserved = true
manage_locations = false
image_conversion = false
image_format_enforcement = false
do_secure_hash = true
http_store_enabled = false

[enforce_scope]
glance = false

[validation]
run_validation = false
"""

# What the RBAC run changes in TEMPEST_CONF, and adds to it.
RBAC_CONF_CHANGES = {"[enforce_scope]\nglance = false\n": "[enforce_scope]\nglance = true\n"}
RBAC_CONF_EXTRA = """
[glance_api]
# glance-tempest-plugin's option: a system-scoped admin may do nothing here (as in Glance today)
system_scope_supported = false
"""

# A qcow2 v3 header, enough for the one web-download test (format inspection: qcow2, no backing file).
QCOW2 = b"QFI\xfb" + (3).to_bytes(4, "big") + bytes(96) + b"tempest-web-download" * 64


def tempest_available() -> bool:
    try:
        import tempest  # noqa: F401
    except ImportError:
        return False
    return True


def tempest_dir() -> str:
    import tempest

    return str(Path(tempest.__file__).parent)


def include_list(names: list[str] | None = None) -> list[str]:
    """One regex a test: ``name[`` (tempest ids end in ``[id-...]``), so no test's name is another's prefix."""
    return ["^" + re.escape(PREFIX + name + "[") for name in (EXPECTED if names is None else names)]


def rbac_include_list() -> list[str]:
    # the metadef persona tests carry no idempotent id: their ids end at the name
    return ["^" + re.escape(RBAC_PREFIX + name) + r"(\[|$)" for name in RBAC_EXPECTED]


def plugin_available() -> bool:
    try:
        import glance_tempest_plugin  # noqa: F401
    except ImportError:
        return False
    return True


def plugin_dir() -> str:
    import glance_tempest_plugin

    return str(Path(glance_tempest_plugin.__file__).parent)


# ---------------------------------------------------------------------------- pieces
# tempest's [image] alternate_image_endpoint: a second service type in the catalog, another "API worker"
# (ImportImagesTest.test_remote_*), whose endpoint is the same stack: any API call can serve any image
ALTERNATE_SERVICE_TYPE = "image_remote"


def register_image_endpoint(keystone: Keystone, url: str, service_type: str = "image") -> tuple[str, str]:
    """A ``service_type`` service with a public endpoint at ``url`` in RegionOne; returns their ids."""
    admin = keystone.token(keystone.admin)
    services = _ok(keystone.call("GET", f"/services?type={service_type}", admin))["services"]
    if services:
        service_id = services[0]["id"]
    else:
        name = "glance" if service_type == "image" else f"glance-{service_type}"
        body = {"service": {"type": service_type, "name": name, "enabled": True}}
        service_id = _ok(keystone.call("POST", "/services", admin, body))["service"]["id"]
    body = {"endpoint": {"service_id": service_id, "interface": "public", "url": url, "region_id": "RegionOne"}}
    endpoint_id = _ok(keystone.call("POST", "/endpoints", admin, body))["endpoint"]["id"]
    return service_id, endpoint_id


def point_endpoint(keystone: Keystone, endpoint_id: str, url: str) -> None:
    keystone.admin_call("PATCH", f"/endpoints/{endpoint_id}", {"endpoint": {"url": url}})


def configure_limits(config_dir: Path, keystone: Keystone, service_id: str, endpoint_id: str) -> None:
    """What an operator does to turn unified limits on: register the limits, let the glance user read them,
    and point glance-api.conf at them."""
    keystone.remove_limits(service_id)  # a previous run's, if it was interrupted
    keystone.register_limits(service_id, LIMITS_REGISTERED)
    keystone.grant_system_reader(keystone.service)
    set_option(config_dir, "glance-api.conf", "DEFAULT", "use_keystone_limits", "true")
    for key, value in keystone.oslo_limit_options(endpoint_id).items():
        set_option(config_dir, "glance-api.conf", "oslo_limit", key, value)


def unregister_endpoint(keystone: Keystone, endpoint_id: str) -> None:
    keystone.call("DELETE", f"/endpoints/{endpoint_id}", keystone.token(keystone.admin))


def configure_service(config_dir: Path, keystone: Keystone, web_port: int) -> None:
    """The local stack's configuration: Keystone identity, web-download allowed from our loopback server."""
    set_option(config_dir, "glance-api.conf", "identity", "backend", "keystone")
    for key, value in keystone.authtoken_options().items():
        set_option(config_dir, "glance-api.conf", "keystone_authtoken", key, value)
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_ports", f"[80, 443, {web_port}]")
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "allowed_networks", "[127.0.0.0/8]")
    # ListUserImagesTest uploads random bytes labelled qcow2 (and others): Glance's own gate sets this
    # for the class; the safety checks of whatever is detected still run
    set_option(config_dir, "glance-api.conf", "image_format", "require_image_format_match", "false")


@contextmanager
def web_server(directory: Path) -> Iterator[str]:
    """A file server on loopback for web-download; yields its base URL."""
    (directory / "cirros.qcow2").write_bytes(QCOW2)
    (directory / "cirros.img").write_bytes(QCOW2)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_workspace(
    workspace: Path,
    keystone: Keystone,
    web_url: str,
    rbac: bool = False,
    multi_store: bool = False,
    limits: bool = False,
) -> Path:
    workspace.mkdir(parents=True, exist_ok=True)
    conf = workspace / "etc" / "tempest.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(
        TEMPEST_CONF.format(
            workspace=workspace,
            admin=keystone.admin,
            keystone_url=keystone.url,
            http_image=f"{web_url}/cirros.img",
            http_qcow2_image=f"{web_url}/cirros.qcow2",
            alternate_service_type=ALTERNATE_SERVICE_TYPE,
        )
    )
    if rbac:
        conf.write_text(rbac_conf(conf.read_text()))
        return write_rbac_discovery(workspace, conf)
    if limits:
        return write_limits_discovery(workspace, conf)
    if multi_store:
        text = conf.read_text()
        for before, after in MULTI_STORE_CONF_CHANGES.items():
            assert before in text, before
            text = text.replace(before, after)
        conf.write_text(text)
    names = MULTI_STORE_EXPECTED if multi_store else EXPECTED
    (workspace / "include.txt").write_text("\n".join(include_list(names)) + "\n")
    # discover only the image tests (tempest's own .stestr.conf imports all of tempest first, ~40 s);
    # test ids stay tempest.api.image.v2.<module>.<Class>.<test>, grouped by class as tempest does
    site = Path(tempest_dir()).parent
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={site / 'tempest' / 'api' / 'image' / 'v2'}\ntop_dir={site}\ngroup_regex=([^\\.]*\\.)*\n"
    )
    return conf


def write_limits_discovery(workspace: Path, conf: Path) -> Path:
    """Discover only tempest's scenario tests (the unified-limits one among them)."""
    names = [LIMITS_PREFIX + name for name in LIMITS_EXPECTED]
    (workspace / "include.txt").write_text("\n".join("^" + re.escape(name + "[") for name in names) + "\n")
    site = Path(tempest_dir()).parent
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={site / 'tempest' / 'scenario'}\ntop_dir={site}\ngroup_regex=([^\\.]*\\.)*\n"
    )
    return conf


def rbac_conf(text: str) -> str:
    for before, after in RBAC_CONF_CHANGES.items():
        assert before in text, before
        text = text.replace(before, after)
    return text + RBAC_CONF_EXTRA


def write_rbac_discovery(workspace: Path, conf: Path) -> Path:
    """Discover only the plugin's RBAC tests (tempest finds the plugin's options by its entry point)."""
    (workspace / "include.txt").write_text("\n".join(rbac_include_list()) + "\n")
    plugin = Path(plugin_dir())
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={plugin / 'tests' / 'rbac' / 'v2'}\ntop_dir={plugin.parent}\ngroup_regex=([^\\.]*\\.)*\n"
    )
    return conf


@dataclass
class TempestRun:
    returncode: int
    output: str
    results: dict[str, str]  # test id (without [id-...]) -> ok | FAILED | SKIPPED...
    seconds: float


RESULT = re.compile(
    r"^\{\d+\} (?P<test>(?:glance_)?tempest(?:_plugin)?\.\S+?)(?:\[[^\]]*\])? (?:\[[\d.]+s\] )?\.\.\. (?P<result>.+)$"
)


def run_tempest(workspace: Path, regex: str | None = None, concurrency: int = 2, timeout: float = 900) -> TempestRun:
    """``tempest run`` in the workspace on the include/exclude lists (or on ``regex``)."""
    # tempest has no __main__: its console script's entry point, from this interpreter
    command = [sys.executable, "-c", "import sys; from tempest.cmd.main import main; sys.exit(main())"]
    command += ["run", "--config-file", str(workspace / "etc" / "tempest.conf")]
    if regex:
        command += ["--regex", regex]
    else:
        command += ["--include-list", "include.txt"]
    command += ["--concurrency", str(concurrency)]
    started = time.monotonic()
    process = subprocess.run(
        command, cwd=workspace, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    output = process.stdout + process.stderr
    (workspace / "tempest-run.out").write_text(output)
    results = {}
    for line in output.splitlines():
        match = RESULT.match(line.strip())
        if match:
            results[match["test"]] = match["result"]
    return TempestRun(process.returncode, output, results, time.monotonic() - started)


@contextmanager
def tempest_workspace(
    base: Path, keystone: Keystone, rbac: bool = False, multi_store: bool = False, limits: bool = False
) -> Iterator[Path]:
    """The local stack behind ``keystone``, in its catalog, and a tempest workspace for it under ``base``
    (``multi_store``: on config/examples/multi-store; ``limits``: its quotas from Keystone's unified limits)."""
    import shutil

    from tests.support.e2e import start_local_service

    config_dir = base / "config"
    shutil.copytree(MULTI_STORE_CONFIG if multi_store else ROOT / "config", config_dir)
    (base / "www").mkdir()
    with web_server(base / "www") as web_url:
        configure_service(config_dir, keystone, int(web_url.rsplit(":", 1)[1]))
        endpoint_ids: list[str] = []
        service = None
        service_id = None
        try:
            # the endpoint first (its id goes in [oslo_limit]), pointed at the stack once it has its port
            service_id, endpoint_id = register_image_endpoint(keystone, PENDING_URL)
            endpoint_ids.append(endpoint_id)
            if limits:
                configure_limits(config_dir, keystone, service_id, endpoint_id)
            service = start_local_service(config_dir, base)
            point_endpoint(keystone, endpoint_id, service.url)
            load_metadefs(METADEFS_FIXTURES)
            # the same stack under another name, so tempest's log shows which endpoint a call took
            alternate_url = service.url.replace("127.0.0.1", "localhost")
            endpoint_ids.append(register_image_endpoint(keystone, alternate_url, ALTERNATE_SERVICE_TYPE)[1])
            yield write_workspace(base / "workspace", keystone, web_url, rbac, multi_store, limits).parents[1]
        finally:
            for endpoint_id in endpoint_ids:
                unregister_endpoint(keystone, endpoint_id)
            if limits and service_id is not None:
                keystone.remove_limits(service_id)
            if service is not None:
                service.process.terminate()
                try:
                    service.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    service.process.kill()


METADEFS_FIXTURES = ROOT / "tests" / "fixtures" / "metadefs"


def load_metadefs(path: Path) -> None:
    """Namespace files into the running local stack, with the loader command operators use."""
    command = [sys.executable, "-m", "image_import_dev.metadefs", "load", str(path)]
    loaded = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


# ---------------------------------------------------------------------------- by hand
def main(argv: list[str]) -> int:
    from tests.keystone_server import start_keystone

    rbac = "--rbac" in argv  # glance-tempest-plugin's RBAC persona tests instead
    multi_store = "--multi-store" in argv  # the multi-store tests, on config/examples/multi-store
    limits = "--limits" in argv  # tempest's unified-limits scenario, the quotas from Keystone
    argv = [arg for arg in argv if arg not in ("--rbac", "--multi-store", "--limits")]
    base = Path(tempfile.mkdtemp(prefix="tempest-image-"))
    keystone = start_keystone()
    try:
        with tempest_workspace(base, keystone, rbac, multi_store, limits) as workspace:
            run = run_tempest(workspace, argv[0] if argv else None, RBAC_CONCURRENCY if rbac else 2)
            print(run.output[-20000:])
            print(f"tempest: rc={run.returncode} in {run.seconds:.0f}s; workspace {workspace}")
            return run.returncode
    finally:
        keystone.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

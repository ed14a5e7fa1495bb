"""End to end: python-glanceclient's metadata-definition commands (md-namespace-*, md-object-*, md-property-*,
md-tag-*, md-resource-type-*) and the loader command against the local stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.e2e import glance
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

NS = "OS::Demo::E2E"


def table(output: str) -> dict[str, str]:
    """A glanceclient property/value table as a dict."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in output.splitlines() if "|" in line]
    return {row[0]: row[1] for row in rows[1:] if len(row) >= 2}


def column(output: str) -> list[str]:
    """The first column of a glanceclient list table."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in output.splitlines() if "|" in line]
    return [row[0] for row in rows[1:]]


def test_glanceclient_manages_metadata_definitions(service, tmp_path):
    def run(token, *args):
        result = glance(service, token, *args, tmp_path=tmp_path)
        assert result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
        return result.stdout

    def admin(*args):
        return run("admin-token", *args)

    created = table(admin("md-namespace-create", NS, "--visibility", "public", "--display-name", "E2E"))
    assert created["namespace"] == NS and created["visibility"] == "public"
    assert NS in column(run("member-token", "md-namespace-list"))
    refused = glance(service, "member-token", "md-namespace-create", "OS::Mine", tmp_path=tmp_path)
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout

    # resource types
    admin("md-resource-type-associate", NS, "--name", "OS::Glance::Image", "--prefix", "e2e_")
    assert "OS::Glance::Image" in column(admin("md-namespace-resource-type-list", NS))
    assert "OS::Glance::Image" in column(run("member-token", "md-resource-type-list"))

    # properties
    schema = json.dumps({"type": "string", "title": "Size", "enum": ["s", "m", "l"]})
    admin("md-property-create", NS, "--name", "size", "--title", "Size", "--type", "string", "--schema", schema)
    assert "size" in column(admin("md-property-list", NS))
    assert table(run("member-token", "md-property-show", NS, "size"))["title"] == "Size"
    admin("md-property-update", NS, "size", "--title", "Flavor size")
    assert table(admin("md-property-show", NS, "size"))["title"] == "Flavor size"

    # objects
    object_schema = json.dumps({"properties": {"cores": {"type": "integer", "title": "Cores"}}, "required": ["cores"]})
    admin("md-object-create", NS, "--name", "CPU", "--schema", object_schema)
    assert "CPU" in column(admin("md-object-list", NS))
    assert table(admin("md-object-property-show", NS, "CPU", "cores"))["title"] == "Cores"
    admin("md-object-update", NS, "CPU", "--name", "Processor")
    assert table(admin("md-object-show", NS, "Processor"))["name"] == "Processor"

    # tags
    admin("md-tag-create", NS, "--name", "old")
    admin("md-tag-create-multiple", NS, "--names", "silver,bronze")  # replaces the namespace's tags
    assert set(column(admin("md-tag-list", NS))) == {"silver", "bronze"}
    admin("md-tag-create", NS, "--name", "gold")
    assert set(column(admin("md-tag-list", NS))) == {"gold", "silver", "bronze"}
    # (md-tag-create-multiple --append fails inside glanceclient before it sends anything: it puts the
    # boolean True in the X-Openstack-Append header, which its header encoding cannot quote; the API's
    # append is covered in tests/integration/test_metadefs.py)
    admin("md-tag-update", NS, "gold", "--name", "platinum")
    assert table(run("member-token", "md-tag-show", NS, "platinum"))["name"] == "platinum"
    admin("md-tag-delete", NS, "bronze")
    assert set(column(admin("md-tag-list", NS))) == {"platinum", "silver"}

    # the whole namespace, then its parts deleted
    shown = table(admin("md-namespace-show", NS))
    assert shown["display_name"] == "E2E" and "Processor" in shown["objects"]
    admin("md-namespace-update", NS, "--description", "updated by glanceclient")
    assert table(admin("md-namespace-show", NS))["description"] == "updated by glanceclient"
    admin("md-namespace-tags-delete", NS)
    admin("md-namespace-objects-delete", NS)
    admin("md-namespace-properties-delete", NS)
    assert column(admin("md-tag-list", NS)) == [] and column(admin("md-object-list", NS)) == []
    admin("md-resource-type-deassociate", NS, "OS::Glance::Image")
    admin("md-namespace-delete", NS)
    assert NS not in column(admin("md-namespace-list"))

    # a namespace file in Glance's format, imported whole through the API
    admin("md-namespace-import", "--file", str(ROOT / "tests" / "fixtures" / "metadefs" / "image-import-example.json"))
    imported = table(run("member-token", "md-namespace-show", "IMAGE_IMPORT::Example::Boot"))
    assert "Timeouts" in imported["objects"] and "bootable" in imported["tags"]
    assert "OS::Nova::Flavor" in column(run("member-token", "md-resource-type-list"))


def test_the_loader_command_fills_the_running_local_stack(service, tmp_path):
    command = [sys.executable, "-m", "image_import_dev.metadefs", "load", str(ROOT / "tests" / "fixtures" / "metadefs")]
    loaded = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 loaded, 0 skipped, 0 failed" in loaded.stdout
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "0 loaded, 1 skipped" in again.stdout

    status, _, namespace = service.request("GET", "/v2/metadefs/namespaces/IMAGE_IMPORT::Example::Boot")
    assert status == 200
    assert (
        namespace["owner"] == "admin" and namespace["protected"] is True and namespace["tags"] == [{"name": "bootable"}]
    )

"""The template of a chain with data plugins (config/examples/data-plugins): each plugin's function as
its class declares it, write access only where a plugin writes, the qemu-img layer and scratch space."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.infra import translate
from tests.support.paths import ROOT
from tests.support.template import _resources, as_list, statements

EXAMPLE = ROOT / "config/examples/data-plugins"
CHAIN = ["image_decompression", "image_conversion", "inject_image_metadata"]


@pytest.fixture(scope="module")
def cfn() -> dict:
    return translate(CHAIN)


def test_the_example_configuration_lists_both_data_plugins_in_glances_order():
    from image_import.settings import load_settings

    assert list(load_settings(EXAMPLE).image_import_plugins) == CHAIN


def test_the_conversion_function_gets_its_timeout_memory_scratch_space_and_the_qemu_img_layer(cfn):
    function = cfn["Resources"]["ImageConversionPluginFunction"]["Properties"]
    assert function["Timeout"] == 900 and function["MemorySize"] == 2048
    assert function["EphemeralStorage"] == {"Size": {"Ref": "ConversionScratchMiB"}}
    layers = [ref["Ref"] for ref in function["Layers"]]  # SAM suffixes layer versions with a hash
    assert [name.rstrip("0123456789abcdef") for name in layers] == ["DomainLayer", "ConfigLayer", "QemuImgLayer"]
    parameter = cfn["Parameters"]["ConversionScratchMiB"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (512, 10240)
    assert cfn["Resources"][layers[2]]["Type"] == "AWS::Lambda::LayerVersion"


def test_only_data_plugins_may_write_and_only_under_plugin_data(cfn):
    """Each plugin function assumes a role scoped to its import: only the data plugins' may write, and only
    their import's replacements (tests/infra/test_plugin_scope_template.py)."""
    assumed = {}
    for function in ("ImageDecompression", "ImageConversion", "InjectImageMetadata"):
        for _, statement in statements(cfn["Resources"][f"{function}PluginFunctionRole"]):
            assert "s3:PutObject" not in as_list(statement["Action"])  # not as the function's own role
            if "sts:AssumeRole" in as_list(statement["Action"]):
                assumed[function] = statement["Resource"]["Fn::GetAtt"][0]
    assert assumed == {
        "ImageDecompression": "DataPluginImageRole",
        "ImageConversion": "DataPluginImageRole",
        "InjectImageMetadata": "PluginImageRole",
    }
    writers = {}
    for role_id in ("DataPluginImageRole", "PluginImageRole"):
        for _, statement in statements(cfn["Resources"][role_id]):
            if "s3:PutObject" in as_list(statement["Action"]):
                writers[role_id] = _resources(statement)
    assert writers == {
        "DataPluginImageRole": [
            "${StagingBucket.Arn}/plugin-data/${!aws:PrincipalTag/ImageId}.${!aws:PrincipalTag/TaskId}.*"
        ]
    }


def test_the_rendered_template_with_data_plugins_passes_cfn_lint(tmp_path):
    from image_import_dev.render import main

    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "statemachine").mkdir()
    shutil.copy(ROOT / "statemachine/import.asl.json", tmp_path / "statemachine/import.asl.json")
    assert main(["--root", str(tmp_path), "--config-dir", str(EXAMPLE)]) == 0
    text = (tmp_path / "template.yaml").read_text()
    assert "QemuImgLayer:" in text and "ConversionScratchMiB:" in text
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(tmp_path / "template.yaml")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

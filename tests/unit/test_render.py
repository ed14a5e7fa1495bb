"""The state machine and plugin functions are rendered from the configured plugin list."""

from __future__ import annotations

import json

from image_import_dev.render import (
    LAMBDA_SERVICE_ERRORS,
    apply_plugins,
    definition,
    main,
    plugin_function_id,
    rendered_files,
)

from image_import.settings import load_settings
from tests.support.config import set_option


def chain_of(asl: dict, method: str = "glance-direct") -> list[str]:
    """The task states an import by ``method`` runs, in order (choices resolved, not listed)."""
    states, name, order = asl["States"], asl["StartAt"], []
    while name:
        state = states[name]
        if state["Type"] == "Choice":
            # a pass loop's choice: the way out once the passes are done
            chosen = [c["Next"] for c in state["Choices"] if c.get("StringEquals", method) == method]
            name = chosen[0] if chosen else state["Default"]
            continue
        order.append(name)
        name = state.get("Next") if not state.get("End") else None
    return order


def test_states_run_in_glances_order_with_one_state_per_plugin_in_list_order():
    asl = definition(["inject_image_metadata", "no_op"])
    assert chain_of(asl) == [
        "VerifyStaging",
        "Plugin-inject_image_metadata",
        "Plugin-no_op",
        "ImportToStore",
        "CompleteImport",
        "DeleteStaging",
    ]


def test_the_states_that_move_data_run_again_until_their_passes_are_done():
    asl = definition(["no_op"])
    states = asl["States"]
    for task, flag, after in (
        ("ImportToStore", "$.store.progress.done", "CompleteImport"),
        ("WebDownload", "$.download.progress.done", "VerifyStaging"),
    ):
        choice = states[states[task]["Next"]]
        assert choice["Type"] == "Choice"
        assert choice["Default"] == task  # not done: one more pass
        (way_out,) = choice["Choices"]
        assert way_out["Next"] == after
        assert {"Variable": flag, "BooleanEquals": True} in way_out["And"]
        # a pass that broke off is retried (from the offset its input records); anything else reverts
        retried = {error for retry in states[task]["Retry"] for error in retry["ErrorEquals"]}
        assert {"PassInterrupted", "Sandbox.Timedout"} <= retried
        assert "ImportFailed" not in retried and "States.ALL" not in retried
        assert states[task]["Catch"][0]["Next"] == "RevertImport"


def test_given_a_web_download_import_when_the_workflow_starts_then_it_downloads_before_the_common_chain():
    asl = definition(["no_op"])
    assert asl["States"][asl["StartAt"]]["Choices"][0]["Variable"] == "$.method"
    assert chain_of(asl, "web-download") == [
        "WebDownload",
        "VerifyStaging",
        "Plugin-no_op",
        "ImportToStore",
        "CompleteImport",
        "DeleteStaging",
    ]
    assert asl["States"]["WebDownload"]["Parameters"]["FunctionName"] == "${WebDownloadFunctionArn}"


def test_every_lambda_task_retries_service_errors_and_catches_everything_into_revert():
    asl = definition(["no_op"])
    for name, state in asl["States"].items():
        if state["Type"] != "Task":
            continue
        assert state["Retry"][0]["ErrorEquals"] == LAMBDA_SERVICE_ERRORS, name
        assert state["Catch"][0]["ErrorEquals"] == ["States.ALL"], name
        if name == "DeleteStaging":  # after completion: the image is active, never reverted
            assert state["Catch"][0]["Next"] == "StagingLeftForSweeper", name
        elif name != "RevertImport":
            assert state["Catch"][0]["Next"] == "RevertImport", name
    assert asl["States"]["RevertImport"]["Next"] == "ImportFailed"


def test_plugin_states_name_their_plugin_in_the_payload():
    state = definition(["no_op"])["States"]["Plugin-no_op"]
    assert state["Parameters"]["Payload"] == {"plugin": "no_op", "job.$": "$"}
    assert state["Parameters"]["FunctionName"] == "${NoOpPluginFunctionArn}"


def test_plugin_function_ids_are_derived_from_plugin_names():
    assert plugin_function_id("inject_image_metadata") == "InjectImageMetadataPluginFunction"
    assert plugin_function_id("no_op") == "NoOpPluginFunction"


def test_the_committed_definition_and_template_match_the_shipped_configuration(root):
    assert main(["--root", str(root), "--check"]) == 0


def test_adding_the_sample_plugin_renders_a_state_and_a_function_for_it_in_order(root, config_dir):
    set_option(
        config_dir,
        "glance-image-import.conf",
        "image_import_opts",
        "image_import_plugins",
        "[no_op, stamp_import_method, inject_image_metadata]",
    )
    files = rendered_files(root, load_settings(config_dir))
    asl = json.loads(files[root / "statemachine/import.asl.json"])
    assert chain_of(asl)[1:4] == ["Plugin-no_op", "Plugin-stamp_import_method", "Plugin-inject_image_metadata"]
    template = files[root / "template.yaml"]
    assert "StampImportMethodPluginFunction:" in template
    assert "StampImportMethodPluginFunctionArn: !GetAtt StampImportMethodPluginFunction.Arn" in template
    assert "FunctionName: !Ref StampImportMethodPluginFunction" in template


def test_apply_plugins_replaces_the_committed_chain_in_a_template_dict(root):
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((root / "template.yaml").read_text())
    wired = apply_plugins(sam, ["stamp_import_method"])
    resources = wired["Resources"]
    assert "StampImportMethodPluginFunction" in resources
    assert "NoOpPluginFunction" not in resources
    machine = resources["ImportStateMachine"]["Properties"]
    assert "StampImportMethodPluginFunctionArn" in machine["DefinitionSubstitutions"]
    assert "NoOpPluginFunctionArn" not in machine["DefinitionSubstitutions"]
    assert chain_of(machine["Definition"])[1] == "Plugin-stamp_import_method"


def test_render_check_reports_a_stale_definition(root, tmp_path, config_dir):
    import shutil

    shutil.copy(root / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine/import.asl.json").write_text("{}")
    assert main(["--root", str(tmp_path), "--config-dir", str(config_dir), "--check"]) == 1
    assert main(["--root", str(tmp_path), "--config-dir", str(config_dir)]) == 0
    assert main(["--root", str(tmp_path), "--config-dir", str(config_dir), "--check"]) == 0


def test_render_refuses_an_unknown_plugin(root, config_dir, capsys):
    set_option(config_dir, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[nope]")
    assert main(["--root", str(root), "--config-dir", str(config_dir), "--check"]) == 2
    assert "unknown import plugin 'nope'" in capsys.readouterr().err

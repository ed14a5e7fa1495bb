"""The state machine's multi-store fan-out: a Map state over the further target stores."""

from __future__ import annotations

from image_import_dev.render import definition


def test_without_further_stores_the_chain_goes_straight_to_complete():
    states = definition(["no_op"], multi_store=True)["States"]
    (no_more,) = states["AnyStoreToCopy"]["Choices"]
    assert no_more == {"Variable": "$.copy_targets[0]", "IsPresent": False, "Next": "CompleteImport"}
    assert states["AnyStoreToCopy"]["Default"] == "CopyToStores"


def test_each_further_store_is_one_map_iteration_that_loops_on_its_passes_and_reports_its_failure():
    states = definition(["no_op"], multi_store=True)["States"]
    fan_out = states["CopyToStores"]
    assert fan_out["Type"] == "Map" and fan_out["ItemsPath"] == "$.copy_targets"
    assert fan_out["ItemSelector"]["target_store.$"] == "$$.Map.Item.Value"
    assert fan_out["ResultPath"] == "$.store_results" and fan_out["Next"] == "CompleteImport"
    assert fan_out["Catch"][0]["Next"] == "RevertImport"
    inner = fan_out["ItemProcessor"]["States"]
    copy = inner[fan_out["ItemProcessor"]["StartAt"]]
    assert copy["Parameters"]["FunctionName"] == "${ImportToStoreFunctionArn}"
    assert inner[copy["Next"]]["Default"] == "CopyToStore"  # not done: one more pass
    retried = {error for retry in copy["Retry"] for error in retry["ErrorEquals"]}
    assert "PassInterrupted" in retried and "ImportFailed" not in retried
    # a failed store is an iteration's result, never the Map's failure: CompleteImport decides
    assert copy["Catch"][0]["Next"] == "StoreCopyFailed"
    assert inner["StoreCopyFailed"]["Parameters"] == {"store.$": "$.target_store", "error.$": "$.error"}


def test_copy_image_goes_straight_to_the_copies():
    choose = definition(["no_op"], multi_store=True)["States"]["ChooseMethod"]
    assert {"Variable": "$.method", "StringEquals": "copy-image", "Next": "CopyToStores"} in choose["Choices"]


def test_a_single_store_site_runs_the_states_it_ran_before():
    states = definition(["no_op"])["States"]
    assert not {"AnyStoreToCopy", "CopyToStores"} & set(states)
    assert all(c["Next"] != "CopyToStores" for c in states["ChooseMethod"]["Choices"])

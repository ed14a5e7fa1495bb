"""Render the import state machine and the plugin functions from the configured plugin list.

``[image_import_opts] image_import_plugins`` decides which plugin Lambdas exist and in which
order the state machine calls them; ``[DEFAULT] enabled_backends`` (several stores) adds the Map
state that copies into the further stores, and copy-image. This module is the one place that turns that list into
(a) ``statemachine/import.asl.json`` and (b) the generated blocks of ``template.yaml``:

    python -m image_import_dev.render            # rewrite both from config/
    python -m image_import_dev.render --check    # exit 1 if they are stale (CI)

The local stack applies the same rendering in memory (``local_sam_hook``), so a different
configuration directory gets its own chain without touching the committed files.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from image_import.errors import ImportFailed, retried_error_names
from image_import.plugins.base import PluginFunction
from image_import.settings import ConfigError, Settings, load_settings
from image_import.steps.chain import Chain, build_chain, chain_of, plugin_function_id

__all__ = ["plugin_function_id"]  # the plugin functions' logical ids: the chain's (steps/chain.py)

PLUGIN_CODE_URI = "functions/plugin/"
DEFINITION_PATH = "statemachine/import.asl.json"
STATE_MACHINE = "ImportStateMachine"
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]
# A function at its concurrency bound (WebDownloadMaxConcurrency, the account's limit) is throttled:
# the import waits for a slot, ~9.5 minutes in all (5 s, then x1.5), rather than failing in seconds.
THROTTLED_RETRY = {
    "ErrorEquals": ["Lambda.TooManyRequestsException"],
    "IntervalSeconds": 5,
    "MaxAttempts": 10,
    "BackoffRate": 1.5,
}
REVERT = ("RevertImport", "RevertImportFunction")
CHOOSE_METHOD = "ChooseMethod"
FAILED = ImportFailed.error_name  # the Fail state is named, and fails, as the error the task reports


# A pass of a looping state (transfer/passes.py) that broke off (S3 or the network failed, the function
# timed out) is retried from the offset the previous pass recorded: its input is that pass's output.
def pass_retry() -> dict[str, Any]:
    """The retrier of a looping state: read from the error classes when rendering, so a class marked
    ``retried`` is retried without a name typed here."""
    return {
        # the domain's retried errors (errors.py StepFailure.retried), then the ways a function dies mid-pass
        "ErrorEquals": [*retried_error_names(), *PASS_DEATHS],
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2,
    }


# where a cleanup state's failure goes: the image is already active, so the import succeeded
CLEANUP_FAILED = "StagingLeftForSweeper"


# The execution's TimeoutSeconds: the longest import the pass design allows, derived from the definition
# (execution_timeout). A Lambda that gives no Timeout gets Globals' or, without one, Lambda's 3 s.
LAMBDA_DEFAULT_TIMEOUT = 3
# errors after which an attempt may have run for the function's whole timeout (the others fail at once)
PASS_DEATHS = ["Sandbox.Timedout", "Lambda.Unknown", "States.Timeout"]
MAX_EXECUTION_SECONDS = 365 * 24 * 3600  # a standard workflow's limit: one year


def _task(
    function_id: str, next_state: str | None, payload: dict[str, Any], catch: str | None = REVERT[0]
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": f"${{{function_id}Arn}}", **payload},
        "OutputPath": "$.Payload",
        "Retry": [
            {"ErrorEquals": LAMBDA_SERVICE_ERRORS, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2},
            THROTTLED_RETRY,
        ],
    }
    if catch:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": catch}]
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def definition(chain: Chain | list[str] | tuple[str, ...], multi_store: bool = False) -> dict[str, Any]:
    """The ASL of the import chain (steps/chain.py build_chain; a plugin list: the chain with those plugins),
    in JSONPath (moto's interpreter has no JSONata); ``multi_store`` (``enabled_backends`` set) adds the
    fan-out over the further target stores and the copy-image method."""
    if not isinstance(chain, Chain):
        chain = chain_of(tuple(chain))
    shared = chain.for_method("glance-direct")  # every method's steps; web-download first fetches the URI
    states: dict[str, Any] = {}
    for index, step in enumerate(shared):
        following = shared[index + 1].state if index + 1 < len(shared) else None
        states[step.state] = _task(
            step.function_id, following, step.payload(), CLEANUP_FAILED if step.cleanup else REVERT[0]
        )
    leading = [step for step in chain.steps if step not in shared]  # run before the shared ones
    for index, step in enumerate(leading):
        following = leading[index + 1].state if index + 1 < len(leading) else shared[0].state
        states[step.state] = _task(step.function_id, following, step.payload())
    choose = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.method", "StringEquals": method, "Next": step.state}
            for step in leading
            for method in step.methods or ()
        ],
        "Default": shared[0].state,
    }
    states = {CHOOSE_METHOD: choose, **states}
    for step in chain.steps:
        if step.passes is not None:
            _loop(states, step.state, *step.passes)
    if multi_store:
        _fan_out(states, chain)
    revert = _task(REVERT[1], FAILED, {"Payload.$": "$"}, catch=None)
    revert["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.revert_error", "Next": FAILED}]
    states[REVERT[0]] = revert
    states[CLEANUP_FAILED] = {
        "Type": "Succeed",
        "Comment": "The image is active; a cleanup step failed and left staged data, which the sweeper removes.",
    }
    states[FAILED] = {
        "Type": "Fail",
        "Error": ImportFailed.error_name,
        "Cause": "The import failed and was reverted; see the task message.",
    }
    return {
        "Comment": "Glance-compatible image import: (web-download: fetch the URI into staging), verify staging, "
        "plugins in configured order, import to store, complete, delete staging; any failure before the "
        "image is active reverts. "
        "Generated by image_import_dev.render.",
        "StartAt": CHOOSE_METHOD,
        "States": states,
    }


def _loop(states: dict[str, Any], name: str, done_flag: str, choice: str) -> None:
    """``name`` runs again (the next pass) until its output says ``done_flag``, then goes on as before."""
    task = states[name]
    task["Retry"].append(pass_retry())
    states[choice] = {
        "Type": "Choice",
        "Comment": f"{name} moves its data in passes: one more until {done_flag} is true",
        "Choices": [
            {
                "And": [
                    {"Variable": done_flag, "IsPresent": True},
                    {"Variable": done_flag, "BooleanEquals": True},
                ],
                "Next": task.pop("Next"),
            }
        ],
        "Default": name,
    }
    task["Next"] = choice


ANY_STORE_TO_COPY = "AnyStoreToCopy"
COPY_TO_STORES = "CopyToStores"
# the fields of the workflow document one copy needs (models/job.py ImportJob); the item is its target store
COPY_ITEM_FIELDS = ("image_id", "task_id", "method", "context", "staging_key", "source_store")


def _fan_out(states: dict[str, Any], chain: Chain) -> None:
    """Multi-store: once ImportToStore wrote the first store, a Map state copies the data into each other
    target store (``$.copy_targets``), one iteration per store, each looping on its passes, retried, and
    reporting its own failure (``{"store", "error"}``) instead of failing the Map; CompleteImport decides
    from ``$.store_results``. Without further stores (one store: always) the Choice goes straight on."""
    store = chain.step("ImportToStore")
    assert store.passes is not None
    store_choice = store.passes[1]
    after = states[store_choice]["Choices"][0]["Next"]
    states[store_choice]["Choices"][0]["Next"] = ANY_STORE_TO_COPY
    states[ANY_STORE_TO_COPY] = {
        "Type": "Choice",
        "Comment": "One store (always so on a single-store site): go straight on; else copy into each other store.",
        "Choices": [{"Variable": "$.copy_targets[0]", "IsPresent": False, "Next": after}],
        "Default": COPY_TO_STORES,
    }
    # copy-image: the image is active in its stores already; only the copies into the new ones run
    states[CHOOSE_METHOD]["Choices"].append(
        {"Variable": "$.method", "StringEquals": "copy-image", "Next": COPY_TO_STORES}
    )
    copy = _task(store.function_id, "StoreCopyToStoreDone", {"Payload.$": "$"}, catch="StoreCopyFailed")
    copy["Retry"].append(pass_retry())
    states[COPY_TO_STORES] = {
        "Type": "Map",
        "Comment": "One iteration per further target store: a server-side copy from the first store, in passes",
        "ItemsPath": "$.copy_targets",
        "ItemSelector": {
            **{f"{field}.$": f"$.{field}" for field in COPY_ITEM_FIELDS},
            "target_store.$": "$$.Map.Item.Value",
        },
        "MaxConcurrency": 4,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "CopyToStore",
            "States": {
                "CopyToStore": copy,
                "StoreCopyToStoreDone": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                {"Variable": store.passes[0], "IsPresent": True},
                                {"Variable": store.passes[0], "BooleanEquals": True},
                            ],
                            "Next": "StoreCopied",
                        }
                    ],
                    "Default": "CopyToStore",
                },
                "StoreCopied": {"Type": "Pass", "Parameters": {"store.$": "$.target_store"}, "End": True},
                "StoreCopyFailed": {
                    "Type": "Pass",
                    "Parameters": {"store.$": "$.target_store", "error.$": "$.error"},
                    "End": True,
                },
            },
        },
        "ResultPath": "$.store_results",
        "Next": after,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": REVERT[0]}],
    }


def function_timeouts(sam: Mapping[str, Any]) -> dict[str, int]:
    """Each function's Timeout in the SAM template (its own, else Globals', else Lambda's default)."""
    default = sam.get("Globals", {}).get("Function", {}).get("Timeout", LAMBDA_DEFAULT_TIMEOUT)
    return {
        logical_id: resource.get("Properties", {}).get("Timeout", default)
        for logical_id, resource in sam["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def _retry_waits(retry: Mapping[str, Any]) -> float:
    """The waits between a retrier's attempts: IntervalSeconds, times BackoffRate after each."""
    return sum(retry["IntervalSeconds"] * retry.get("BackoffRate", 2.0) ** n for n in range(retry["MaxAttempts"]))


def _task_seconds(state: Mapping[str, Any], timeouts: Mapping[str, int]) -> float:
    """One Task state at its worst: every attempt a timeout may have ended runs the whole function timeout
    (the first, and each retry of an error in PASS_DEATHS or a retried error class), plus every retrier's waits (service
    errors and throttles answer at once: only their waits count)."""
    function = state["Parameters"]["FunctionName"].removeprefix("${").removesuffix("Arn}")
    retries = state.get("Retry", [])
    full = {*PASS_DEATHS, *retried_error_names()}
    long_attempts = 1 + sum(r["MaxAttempts"] for r in retries if full & set(r["ErrorEquals"]))
    return long_attempts * timeouts[function] + sum(_retry_waits(r) for r in retries)


def _states_seconds(states: Mapping[str, Any], timeouts: Mapping[str, int], passes: int, further_stores: int) -> float:
    """Every state once (each path's states are a subset: an upper bound of the longest), a looping state
    ``passes`` times; a Map as many rounds of its iteration as its MaxConcurrency takes for the stores."""
    total = 0.0
    for name, state in states.items():
        if state["Type"] == "Task":
            # a pass loop: the Choice after the task runs it again by default (_loop, the Map's iteration)
            after = states.get(state.get("Next", ""), {})
            loops = passes if after.get("Type") == "Choice" and after.get("Default") == name else 1
            total += loops * _task_seconds(state, timeouts)
        elif state["Type"] == "Map":
            rounds = math.ceil(further_stores / state.get("MaxConcurrency", 1)) if further_stores else 0
            inner = state["ItemProcessor"]["States"]
            total += rounds * _states_seconds(inner, timeouts, passes, further_stores)
    return total


def execution_timeout(asl: Mapping[str, Any], timeouts: Mapping[str, int], settings: Settings) -> int:
    """The longest import the pass design allows (docs/decisions.md, "The import's execution timeout").

    An image is at most ``image_size_cap``; a pass moves ``max_bytes_per_pass`` unless its deadline comes
    first, so a looping state runs ceil(cap / per pass) passes (64 at the defaults: 1 TiB, 16 GiB) while
    the data moves at max_bytes_per_pass / (timeout - 45 s) or faster (19 MiB/s at the defaults; the
    server-side copy and the hashing run far above). Each pass, and every other state, at its worst
    (_task_seconds); the further stores' copies in rounds of the Map's MaxConcurrency. An execution
    still running past it is not one the design lets run: Step Functions ends it (TIMED_OUT, no Catch
    runs) and the sweeper reverts its import like any ended execution.
    """
    passes = max(1, math.ceil(settings.image_size_cap / settings.max_bytes_per_pass))
    further_stores = max(len(settings.stores) - 1, 0)
    seconds = _states_seconds(asl["States"], timeouts, passes, further_stores)
    return min(math.ceil(seconds), MAX_EXECUTION_SECONDS)


def _with_timeout(asl: dict[str, Any], timeout_seconds: int) -> dict[str, Any]:
    """The definition with its execution timeout, beside StartAt where a reader looks for it."""
    head = {key: asl[key] for key in ("Comment", "StartAt")}
    return {**head, "TimeoutSeconds": timeout_seconds, **{k: v for k, v in asl.items() if k not in head}}


def timed_definition(sam: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The definition for these settings, with the timeout its functions' timeouts (in ``sam``) give."""
    asl = definition(build_chain(settings), settings.multi_store)
    return _with_timeout(asl, execution_timeout(asl, function_timeouts(sam), settings))


# the roles a plugin function works as (template.yaml), scoped by the session's tags to its import
PLUGIN_ROLE, DATA_PLUGIN_ROLE = "PluginImageRole", "DataPluginImageRole"


def plugin_role(function: PluginFunction | None = None) -> str:
    """The role a plugin's function assumes for each import: a data plugin's (``writes_data``) may also write
    its replacement under ``plugin-data/``."""
    return DATA_PLUGIN_ROLE if function is not None and function.writes_data else PLUGIN_ROLE


def plugin_statements(function: PluginFunction | None = None) -> list[dict[str, Any]]:
    """What a plugin function's own role may do, and no more: assume its plugin role for a session tagged
    with the import (adapters/ports.py ``plugin_ports``). That role, not this one, may change the import's
    image through ImageActions and read (a data plugin: write) the import's data; no tasks, no store."""
    role = {"Fn::GetAtt": [plugin_role(function), "Arn"]}
    return [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role}]


def plugin_function_of(plugin: str) -> PluginFunction:
    """What the plugin's class declares its function needs (plugins/base.py ``PluginFunction``)."""
    from image_import.plugins.registry import available

    found = available().get(plugin)
    plugin_class = found.load() if found is not None else None
    return getattr(plugin_class, "function", None) or PluginFunction()


def _function_properties(plugin: str) -> dict[str, Any]:
    function = plugin_function_of(plugin)
    properties: dict[str, Any] = {
        "CodeUri": PLUGIN_CODE_URI,
        "Handler": "app.handler",
        "Description": f"Import plugin '{plugin}' (entry point group glance.image_import.plugins)",
    }
    if function.timeout is not None:
        properties["Timeout"] = function.timeout
    if function.memory_size is not None:
        properties["MemorySize"] = function.memory_size
    if function.scratch is not None:
        properties["EphemeralStorage"] = {"Size": {"Ref": function.scratch.name}}
    if function.layers:  # added to the Globals' layers (SAM merges lists)
        properties["Layers"] = [{"Ref": layer.logical_id} for layer in function.layers]
    # both roles on every plugin function (the local stack shares one environment): the plugin's declaration
    # picks one (functions/plugin/app.py), and only that one may this function's role assume
    properties["Environment"] = {
        "Variables": {
            "PLUGIN_ROLE_ARN": {"Fn::GetAtt": [PLUGIN_ROLE, "Arn"]},
            "DATA_PLUGIN_ROLE_ARN": {"Fn::GetAtt": [DATA_PLUGIN_ROLE, "Arn"]},
        }
    }
    properties["Policies"] = [{"Version": "2012-10-17", "Statement": plugin_statements(function)}]
    return properties


def plugin_resources(plugins: list[str] | tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The SAM resources of the plugin functions and the layers they need, as a template dict."""
    resources: dict[str, dict[str, Any]] = {}
    for p in plugins:
        resources[plugin_function_id(p)] = {"Type": "AWS::Serverless::Function", "Properties": _function_properties(p)}
        for layer in plugin_function_of(p).layers:
            resources[layer.logical_id] = {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {
                    "Description": layer.description,
                    "ContentUri": layer.content_uri,
                    "CompatibleRuntimes": ["python3.12"],
                },
                "Metadata": {"BuildMethod": "makefile"},
            }
    return resources


def plugin_parameters(plugins: list[str] | tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Template parameters the plugin functions read (a data plugin's scratch space)."""
    parameters: dict[str, dict[str, Any]] = {}
    for p in plugins:
        scratch = plugin_function_of(p).scratch
        if scratch is not None:
            parameters[scratch.name] = {
                "Type": "Number",
                "Default": scratch.default,
                "MinValue": scratch.minimum,
                "MaxValue": scratch.maximum,
                "Description": scratch.description,
            }
    return parameters


def _yaml_value(value: Any) -> str:
    """A YAML scalar or flow value: JSON for collections and for text YAML would read otherwise."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    text = str(value)
    return json.dumps(text) if isinstance(value, str) and re.search(r": |#|^[\[{&*!|>'\"%@`-]", text) else text


def _functions_block(plugins) -> str:
    lines = []
    for resource_id, resource in plugin_resources(plugins).items():
        lines += [f"  {resource_id}:", f"    Type: {resource['Type']}", "    Properties:"]
        for key, value in resource["Properties"].items():
            if key == "Policies":
                lines += ["      Policies:", '        - Version: "2012-10-17"', "          Statement:"]
                lines += [f"            - {json.dumps(statement)}" for statement in value[0]["Statement"]]
            else:
                lines.append(f"      {key}: {_yaml_value(value)}")
        if "Metadata" in resource:
            lines += ["    Metadata:", *(f"      {k}: {_yaml_value(v)}" for k, v in resource["Metadata"].items())]
        lines.append("")
    return "\n".join(lines)


def _parameters_block(plugins) -> str:
    lines = []
    for name, parameter in plugin_parameters(plugins).items():
        lines.append(f"  {name}:")
        lines += [f"    {key}: {_yaml_value(value)}" for key, value in parameter.items()]
    return "\n".join(lines)


def _substitutions_block(plugins) -> str:
    return "\n".join(f"        {plugin_function_id(p)}Arn: !GetAtt {plugin_function_id(p)}.Arn" for p in plugins)


def _policies_block(plugins) -> str:
    return "\n".join(f"        - LambdaInvokePolicy: {{FunctionName: !Ref {plugin_function_id(p)}}}" for p in plugins)


def _replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(
        rf"(^[ \t]*# BEGIN GENERATED {name}[^\n]*\n)(.*?)(^[ \t]*# END GENERATED {name}[^\n]*$)", re.S | re.M
    )
    if not pattern.search(text):
        raise ConfigError(f"template.yaml: the '# BEGIN/END GENERATED {name}' markers are missing")
    return pattern.sub(lambda m: m.group(1) + (body + "\n" if body else "") + m.group(3), text, count=1)


def rendered_files(root: Path, settings: Settings) -> dict[Path, str]:
    """The contents both generated files should have for these settings."""
    from image_import.plugins.registry import load_chain

    load_chain(settings)  # unknown plugin names or bad plugin options fail here, at build time
    plugins = settings.image_import_plugins
    template_path = root / "template.yaml"
    text = template_path.read_text(encoding="utf-8")
    text = _replace_block(text, "PLUGIN PARAMETERS", _parameters_block(plugins))
    text = _replace_block(text, "PLUGIN FUNCTIONS", _functions_block(plugins))
    text = _replace_block(text, "PLUGIN SUBSTITUTIONS", _substitutions_block(plugins))
    text = _replace_block(text, "PLUGIN POLICIES", _policies_block(plugins))
    from samtranslator.yaml_helper import yaml_parse  # the template's !Sub and friends

    asl = json.dumps(timed_definition(yaml_parse(text), settings), indent=2) + "\n"
    return {template_path: text, root / DEFINITION_PATH: asl}


def apply_plugins(
    sam: dict[str, Any],
    plugins: list[str] | tuple[str, ...],
    multi_store: bool = False,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The SAM template dict with this plugin chain wired in (what the files would say); ``settings``
    (else the defaults) size the execution's timeout."""
    sam = copy.deepcopy(sam)
    resources = sam["Resources"]
    installed = _installed_functions()  # once: each lookup loads every installed plugin's entry point
    layer_ids = {layer.logical_id for function in installed for layer in function.layers}
    for fid in [k for k in resources if k.endswith("PluginFunction") or k in layer_ids]:
        del resources[fid]
    resources.update(plugin_resources(plugins))
    parameters = sam.setdefault("Parameters", {})
    scratch_names = {function.scratch.name for function in installed if function.scratch is not None}
    for name in [k for k in parameters if k in scratch_names]:
        del parameters[name]
    parameters.update(plugin_parameters(plugins))
    machine = resources[STATE_MACHINE]["Properties"]
    subs = {k: v for k, v in machine.get("DefinitionSubstitutions", {}).items() if not k.endswith("PluginFunctionArn")}
    subs.update({f"{plugin_function_id(p)}Arn": {"Fn::GetAtt": [plugin_function_id(p), "Arn"]} for p in plugins})
    machine["DefinitionSubstitutions"] = subs
    policies = [p for p in machine.get("Policies", []) if not _invokes_plugin(p)]
    policies += [{"LambdaInvokePolicy": {"FunctionName": {"Ref": plugin_function_id(p)}}} for p in plugins]
    machine["Policies"] = policies
    machine.pop("DefinitionUri", None)
    asl = definition(plugins, multi_store)
    settings = settings or Settings(config_dir=Path("config"))  # the defaults: what the timeout reads of them
    machine["Definition"] = _with_timeout(asl, execution_timeout(asl, function_timeouts(sam), settings))
    return sam


def _installed_functions() -> list[PluginFunction]:
    from image_import.plugins.registry import available

    return [plugin_function_of(name) for name in available()]


def _invokes_plugin(policy: dict) -> bool:
    target = policy.get("LambdaInvokePolicy", {}).get("FunctionName")
    return isinstance(target, dict) and str(target.get("Ref", "")).endswith("PluginFunction")


def local_sam_hook(config_dir: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """For the local stack: validate the configuration now and wire its plugin chain in."""
    from image_import.plugins.registry import load_chain

    settings = load_settings(Path(config_dir))
    load_chain(settings)
    return lambda sam: local_identity(
        apply_plugins(sam, settings.image_import_plugins, settings.multi_store, settings), settings
    )


def local_identity(sam: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Locally the configuration directory chooses the token backend and whether the limits are Keystone's.

    A deployed stack defaults to ``dynamodb`` (no token works until one is issued) and to
    ``KeystoneLimits=false``; the local stack runs on what its ``glance-api.conf`` says (``token_file``
    and local-tokens.yaml, as shipped; ``use_keystone_limits``).
    """
    parameter = sam.get("Parameters", {}).get("TokenBackend")
    if parameter is None:
        return sam
    sam = copy.deepcopy(sam)
    sam["Parameters"]["TokenBackend"]["Default"] = settings.identity_backend
    if "KeystoneLimits" in sam["Parameters"]:
        sam["Parameters"]["KeystoneLimits"]["Default"] = "true" if settings.use_keystone_limits else "false"
    if "DevelopmentStack" in sam["Parameters"]:  # the local stack is one: token_file, Keystone on http://
        sam["Parameters"]["DevelopmentStack"]["Default"] = "true"
    return sam


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_import_dev.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (holds template.yaml)")
    parser.add_argument("--config-dir", type=Path, help="configuration directory (default: <root>/config)")
    parser.add_argument("--check", action="store_true", help="only report whether the files are up to date")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config_dir or args.root / "config")
        files = rendered_files(args.root, settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run: make render)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An offline stand-in for statelint (awslabs/statelint, Ruby): lint an Amazon States Language definition.

Two halves, as statelint has:

* the shape of every field, by the JSON schema of the States Language that cfn-lint ships and uses for
  its rule E3601 (``cfnlint/data/schemas/other/step_functions/statemachine.json``). cfn-lint never sees
  our definition: the template points at ``statemachine/import.asl.json`` through ``DefinitionUri``, so
  we run the same schema over the file ourselves. The schema relies on keywords next to ``$ref`` being
  applied (draft 2019-09 and later) and on one keyword of cfn-lint's own, ``requiredXor``, added here;
* what a schema cannot say: ``StartAt`` and every ``Next`` / ``Default`` / Choice rule ``Next`` /
  ``Catch`` ``Next`` name a state of the same scope; each state ends (``Next`` or ``End``) unless it is a
  Choice, Succeed or Fail; every state is reachable from ``StartAt``; ``States.ALL`` stands alone and last
  in ``Retry`` and ``Catch``; path fields (``InputPath``, ``OutputPath``, ``ResultPath``, ``ItemsPath``,
  Choice ``Variable`` and ``...Path`` operands, ``Parameters`` / ``ResultSelector`` keys ending in ``.$``)
  are JSONPath from ``$`` (or ``$$``, the context object; ``ResultPath`` only a plain reference path
  from ``$``); state names are unique across nested Parallel branches and Map processors.

JSONPath definitions only (the kind moto's interpreter runs); ``${Name}`` placeholders that
``DefinitionSubstitutions`` fill at deploy time are replaced by placeholder ARNs first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import ValidationError

SCHEMA_PACKAGE = "cfnlint.data.schemas.other.step_functions"
SCHEMA_FILE = "statemachine.json"

# states that may not carry Next/End: a Choice moves on through its rules, Succeed and Fail stop
NO_TRANSITION = {"Choice", "Succeed", "Fail"}
PATH_FIELDS = ("InputPath", "OutputPath", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath")
PATH_FIELDS += ("TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailureCountPath")
PATH_FIELDS += ("ToleratedFailurePercentagePath",)
INTRINSIC_FIELDS = ("ErrorPath", "CausePath")  # a Fail state's, which may also be an intrinsic function
TEMPLATE_FIELDS = ("Parameters", "ResultSelector", "ItemSelector")
# a JSONPath: $ or $$, then nothing or a child/subscript step
PATH = re.compile(r"^\$\$?(?:$|[.\[])")
# a reference path (ResultPath): names and indexes only, no wildcard, filter, slice or deep scan
REFERENCE_PATH = re.compile(r"^\$(?:\.[^.\[\]*?@\s]+|\['[^']*'\]|\[\d+\])*$")
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Problem:
    check: str  # schema, start-at, next, end, reachable, unique, errors, path
    where: str  # a JSON pointer into the definition
    message: str

    def __str__(self) -> str:
        return f"{self.where or '/'}: {self.message} [{self.check}]"


@cache
def schema() -> dict[str, Any]:
    """cfn-lint's schema of the States Language, read from the installed cfn-lint.

    Nested machines (Parallel branches, Map processors) refer to the root as ``#/``, which cfn-lint's
    resolver accepts; for a standard resolver that is the property named "" of the root, so it becomes ``#``.
    """
    return _root_refs(json.loads(resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text()))


def _root_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: "#" if k == "$ref" and v == "#/" else _root_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_root_refs(v) for v in node]
    return node


def _required_xor(validator, fields: list[str], instance: Any, _schema: dict) -> Iterator[ValidationError]:
    """cfn-lint's keyword: exactly one of ``fields`` (here: Next or End)."""
    if not validator.is_type(instance, "object"):
        return
    present = [f for f in fields if f in instance]
    if len(present) != 1:
        yield ValidationError(f"exactly one of {fields} is required, found {present}")


AslValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"requiredXor": _required_xor})


def placeholder_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def resolve_substitutions(value: Any, values: dict[str, str] | None = None) -> Any:
    """Every ``${Name}`` in a string replaced by ``values[Name]``, else by a placeholder ARN."""
    values = values or {}
    if isinstance(value, str):
        return SUBSTITUTION.sub(lambda m: values.get(m.group(1), placeholder_arn(m.group(1))), value)
    if isinstance(value, dict):
        return {k: resolve_substitutions(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_substitutions(v, values) for v in value]
    return value


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def schema_problems(asl: Any) -> list[Problem]:
    validator = AslValidator(schema())
    problems = []
    for error in sorted(validator.iter_errors(asl), key=lambda e: list(map(str, e.absolute_path))):
        # an if/then on Type reports the inner error; the leaves carry the useful message
        leaves = _leaves(error)
        problems += [Problem("schema", _pointer(leaf.absolute_path), leaf.message) for leaf in leaves]
    return list(dict.fromkeys(problems))


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    return [leaf for child in error.context for leaf in _leaves(child)]


def lint(asl: Any, substitutions: dict[str, str] | None = None) -> list[Problem]:
    """Every problem statelint would report (as far as we check), schema first; empty when clean."""
    asl = resolve_substitutions(asl, substitutions)
    problems = schema_problems(asl)
    if isinstance(asl, dict) and isinstance(asl.get("States"), dict):
        seen: dict[str, str] = {}
        problems += _machine(asl, [], seen)
    return problems


def _machine(machine: dict, at: list, seen: dict[str, str]) -> list[Problem]:
    """The semantic checks of one scope (the top level, a Parallel branch, a Map processor)."""
    problems: list[Problem] = []
    states = machine.get("States")
    if not isinstance(states, dict):
        return problems
    start = machine.get("StartAt")
    if start not in states:
        problems.append(Problem("start-at", _pointer([*at, "StartAt"]), f"StartAt {start!r} names no state"))
    for name in states:  # this scope's names first, then the nested scopes' (reported as the duplicates)
        where = _pointer([*at, "States", name])
        if name in seen:
            problems.append(Problem("unique", where, f"state name {name!r} also used at {seen[name]}"))
        seen.setdefault(name, where)
    for name, state in states.items():
        if isinstance(state, dict):
            problems += _state(name, state, [*at, "States", name], set(states), seen)
    problems += _reachability(start, states, at)
    return problems


def _transitions(state: dict) -> Iterator[tuple[list, Any]]:
    """(where, target) of every transition out of a state."""
    for key in ("Next", "Default"):
        if key in state:
            yield [key], state[key]
    for index, rule in enumerate(_list(state.get("Choices"))):
        if isinstance(rule, dict) and "Next" in rule:
            yield ["Choices", index, "Next"], rule["Next"]
    for index, catcher in enumerate(_list(state.get("Catch"))):
        if isinstance(catcher, dict) and "Next" in catcher:
            yield ["Catch", index, "Next"], catcher["Next"]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _state(name: str, state: dict, where: list, names: set[str], seen: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    kind = state.get("Type")
    for field, target in _transitions(state):
        if target not in names:
            problems.append(Problem("next", _pointer([*where, *field]), f"{target!r} names no state of this scope"))
    ends = state.get("End") is True
    if kind in NO_TRANSITION:
        for field in ("Next", "End"):
            if field in state:
                problems.append(Problem("end", _pointer([*where, field]), f"a {kind} state cannot have {field}"))
    elif "Next" in state and ends:
        problems.append(Problem("end", _pointer(where), f"state {name!r} has both Next and End"))
    elif "Next" not in state and not ends:
        problems.append(Problem("end", _pointer(where), f"state {name!r} has neither Next nor End: true"))
    if kind == "Choice" and not _list(state.get("Choices")):
        problems.append(Problem("next", _pointer([*where, "Choices"]), "a Choice state needs at least one rule"))
    for field in ("Retry", "Catch"):
        problems += _error_rules(_list(state.get(field)), [*where, field])
    problems += _paths(state, where)
    for index, branch in enumerate(_list(state.get("Branches"))):
        if isinstance(branch, dict):
            problems += _machine(branch, [*where, "Branches", index], seen)
    for field in ("ItemProcessor", "Iterator"):
        if isinstance(state.get(field), dict):
            problems += _machine(state[field], [*where, field], seen)
    return problems


def _error_rules(rules: list, where: list) -> list[Problem]:
    """States.ALL alone in its ErrorEquals, and only in the last retrier/catcher."""
    problems = []
    for index, rule in enumerate(rules):
        errors = _list(rule.get("ErrorEquals")) if isinstance(rule, dict) else []
        at = _pointer([*where, index, "ErrorEquals"])
        if not errors:
            problems.append(Problem("errors", at, "ErrorEquals must name at least one error"))
        if "States.ALL" in errors and len(errors) > 1:
            problems.append(Problem("errors", at, "States.ALL must appear alone in ErrorEquals"))
        if "States.ALL" in errors and index != len(rules) - 1:
            problems.append(Problem("errors", at, f"States.ALL must be in the last {where[-1]} rule"))
    return problems


def _paths(state: dict, where: list) -> list[Problem]:
    problems = []
    for field in PATH_FIELDS:
        value = state.get(field)
        intrinsic = field in INTRINSIC_FIELDS and isinstance(value, str) and value.startswith("States.")
        if value is not None and not intrinsic and not (isinstance(value, str) and PATH.match(value)):
            problems.append(Problem("path", _pointer([*where, field]), f"{field} {value!r} is not a JSONPath"))
    result = state.get("ResultPath")
    if result is not None and not (isinstance(result, str) and REFERENCE_PATH.match(result)):
        problems.append(
            Problem("path", _pointer([*where, "ResultPath"]), f"ResultPath {result!r} is not a reference path")
        )
    for field in TEMPLATE_FIELDS:
        problems += _template_paths(state.get(field), [*where, field])
    for index, rule in enumerate(_list(state.get("Choices"))):
        problems += _choice_paths(rule, [*where, "Choices", index])
    return problems


def _template_paths(template: Any, where: list) -> list[Problem]:
    """In Parameters / ResultSelector: a key ending in .$ takes a path (or an intrinsic function)."""
    problems = []
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not (isinstance(value, str) and (PATH.match(value) or value.startswith("States."))):
                    problems.append(
                        Problem("path", _pointer([*where, key]), f"{key} takes a JSONPath or intrinsic, not {value!r}")
                    )
            else:
                problems += _template_paths(value, [*where, key])
    elif isinstance(template, list):
        for index, value in enumerate(template):
            problems += _template_paths(value, [*where, index])
    return problems


def _choice_paths(rule: Any, where: list) -> list[Problem]:
    problems = []
    if not isinstance(rule, dict):
        return problems
    for key, value in rule.items():
        is_path = key == "Variable" or key.endswith("Path")
        if is_path and not (isinstance(value, str) and PATH.match(value)):
            problems.append(Problem("path", _pointer([*where, key]), f"{key} {value!r} is not a JSONPath"))
    for index, nested in enumerate(_list(rule.get("And")) + _list(rule.get("Or"))):
        problems += _choice_paths(nested, [*where, "And" if "And" in rule else "Or", index])
    if "Not" in rule:
        problems += _choice_paths(rule["Not"], [*where, "Not"])
    return problems


def _reachability(start: Any, states: dict, at: list) -> list[Problem]:
    reachable: set[str] = set()
    frontier = [start] if start in states else []
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        state = states[name]
        if isinstance(state, dict):
            frontier += [target for _, target in _transitions(state) if target in states]
    return [
        Problem("reachable", _pointer([*at, "States", name]), f"state {name!r} is not reachable from StartAt")
        for name in states
        if name not in reachable
    ]

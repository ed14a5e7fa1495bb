"""The operator's files beside the INI ones: policy rules, development tokens, property protections.

Each loader checks its file completely, as Glance does at start-up, and raises ConfigError naming
the file and line: a malformed file stops the process instead of failing open later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from image_import.models.caller import Caller
from image_import.settings.ini import ConfigError, parse_ini

API_CONF = "glance-api.conf"
IMPORT_CONF = "glance-image-import.conf"
POLICY_FILE = "policy.yaml"
TOKENS_FILE = "local-tokens.yaml"

PROTECTED_OPERATIONS = ("create", "read", "update", "delete")


def _yaml_error(path: Path, exc: Exception) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(f"{path}{line}: invalid YAML: {problem}")


def _load_yaml_mapping(path: Path) -> tuple[dict, dict[str, int]]:
    """Load a YAML mapping and the line of each top-level key."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}:1: expected a mapping at the top level")
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    return data, lines


def load_policy_file(path: Path) -> dict[str, str]:
    """Rule name -> check string. Missing file means Glance's defaults."""
    if not path.exists():
        return {}
    data, lines = _load_yaml_mapping(path)
    for name, rule in data.items():
        if not isinstance(name, str) or not isinstance(rule, str):
            raise ConfigError(f"{path}:{lines.get(name, 1)}: rule {name!r} must map a name to a check string")
    return data


def load_tokens(path: Path) -> dict[str, Caller]:
    """Development bearer tokens: ``<token>: {user_id, project_id, roles: [..]}``; ``project_id: null``
    is a caller without a project (as a domain- or system-scoped Keystone token)."""
    if not path.exists():
        return {}
    data, lines = _load_yaml_mapping(path)
    tokens: dict[str, Caller] = {}
    for token, entry in data.items():
        where = f"{path}:{lines.get(token, 1)}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: token {token!r} must map to user_id, project_id and roles")
        missing = {"user_id", "project_id", "roles"} - entry.keys()
        if missing:
            raise ConfigError(f"{where}: token {token!r} lacks {', '.join(sorted(missing))}")
        service_user = entry.get("service_user_id")
        tokens[str(token)] = Caller(
            user_id=str(entry["user_id"]),
            project_id=str(entry["project_id"]) if entry["project_id"] not in (None, "") else None,
            roles=_role_list(entry["roles"], where, token),
            service_roles=_role_list(entry.get("service_roles", []), where, token),
            service_user_id=str(service_user) if service_user is not None else None,
        )
    return tokens


def _role_list(roles, where: str, token: str) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ConfigError(f"{where}: roles of token {token!r} must be a list of names")
    return tuple(r.lower() for r in roles)


@dataclass(frozen=True)
class ProtectionRule:
    """One section of a property-protections file: a name pattern and the rule of each operation."""

    pattern: re.Pattern
    rules: dict[str, str]  # operation (PROTECTED_OPERATIONS) -> roles, or one policy rule name
    where: dict[str, str] = field(default_factory=dict, compare=False)  # operation -> file:line


def load_protections(path: Path, rule_format: str = "roles") -> tuple[ProtectionRule, ...]:
    """A property-protections file, in file order, checked the way Glance does at start-up
    (it refuses to start otherwise)."""
    protections = []
    for name, options in parse_ini(path).items():
        if name == "DEFAULT":
            continue
        first_line = min((v.line for v in options.values()), default=0)
        try:
            pattern = re.compile(name)
        except re.error as exc:
            raise ConfigError(
                f"{path}:{max(first_line - 1, 1)}: section [{name}] is not a valid regular expression: {exc}"
            ) from None
        rules, where = {}, {}
        for operation in PROTECTED_OPERATIONS:
            if operation not in options:
                raise ConfigError(f"{path}: section [{name}] lacks the '{operation}' option")
            roles = [r.strip() for r in options[operation].value.split(",")]
            if "@" in roles and "!" in roles:
                raise ConfigError(f"{options[operation].where()}: '@' and '!' cannot be used together")
            if rule_format == "policies" and len(roles) > 1:
                raise ConfigError(f"{options[operation].where()}: the policies format takes one rule name, not a list")
            rules[operation] = options[operation].value.strip()
            where[operation] = options[operation].where()
        protections.append(ProtectionRule(pattern, rules, where))
    return tuple(protections)


def check_protection_rules(protections: tuple[ProtectionRule, ...], policy_rules: dict[str, str], policy_path: Path):
    """The policies format names rules: each must exist (Glance's defaults or the policy file).

    Glance would evaluate an undefined ``rule:<name>`` as refused for everyone, silently; a typo
    there is an operator's mistake, so we refuse to start instead, naming the file and line.
    """
    from image_import.policy.defaults import DEFAULT_RULES

    known = DEFAULT_RULES.keys() | policy_rules.keys()
    for section in protections:
        for operation, rule in section.rules.items():
            if rule not in ("@", "!", "") and rule not in known:
                raise ConfigError(
                    f"{section.where.get(operation, '?')}: property protection rule {rule!r} is not defined"
                    f" in {policy_path.name} nor among Glance's default rules"
                )

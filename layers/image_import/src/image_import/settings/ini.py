"""Glance's oslo.config INI format, read by hand: sections, options and the line of every value.

oslo.config is not imported (it is heavy on a cold start); these few rules are all the service needs, and
every value keeps its file and line so an error can name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A configuration file is missing, malformed or holds an invalid value."""


@dataclass(frozen=True)
class ConfValue:
    value: str
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


Sections = dict[str, dict[str, ConfValue]]
# every section header (option None) and option as written: (section, option, file, line)
Seen = tuple[str, str | None, Path, int]

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]\s?(?P<value>.*)$")


def parse_ini(path: Path, into: Sections | None = None, seen: list[Seen] | None = None) -> Sections:
    """Parse an oslo.config-style INI file, keeping the line of every value (for error messages); ``seen``
    collects every section header and option with its line (for the unknown-name warnings)."""
    sections: Sections = into if into is not None else {}
    current: str | None = None
    last: tuple[str, str] | None = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0] in " \t" and last is not None:
            # oslo.config continuation line: appended to the previous value
            section, key = last
            previous = sections[section][key]
            sections[section][key] = ConfValue(previous.value + "\n" + stripped, previous.path, previous.line)
            continue
        if match := _SECTION.match(stripped):
            current = match["name"].strip()
            sections.setdefault(current, {})
            if seen is not None:
                seen.append((current, None, path, number))
            last = None
            continue
        if current is None:
            raise ConfigError(f"{path}:{number}: option outside any [section]: {stripped!r}")
        if not (match := _OPTION.match(stripped)):
            raise ConfigError(f"{path}:{number}: expected 'name = value' or '[section]', got {stripped!r}")
        key = match["key"].strip()
        sections[current][key] = ConfValue(match["value"].strip(), path, number)
        if seen is not None:
            seen.append((current, key, path, number))
        last = (current, key)
    return sections


def parse_list(item: ConfValue) -> list[str]:
    """oslo ListOpt: comma separated, optionally in [brackets], items optionally quoted."""
    text = item.value.strip()
    if text.startswith("["):
        if not text.endswith("]"):
            raise ConfigError(f"{item.where()}: list value must end with ']': {item.value!r}")
        text = text[1:-1]
    return [_unquote(part.strip()) for part in text.split(",") if part.strip()]


def parse_dict(item: ConfValue) -> dict[str, str]:
    """oslo DictOpt (``k1:v1,k2:v2``), with surrounding quotes stripped from keys and values.

    Glance's own admin guide shows ``"property1":"value1"``; oslo.config keeps those quotes in
    the key and value, which silently injects a property literally named ``"property1"``.
    We accept both spellings and mean the same thing by them.
    """
    result: dict[str, str] = {}
    pending = ""
    for piece in item.value.split(","):
        piece = pending + piece
        if ":" not in piece:
            # like oslo.config: a piece without ':' belongs with the next piece
            pending = piece + ","
            continue
        pending = ""
        key, value = (_unquote(part.strip()) for part in piece.split(":", 1))
        if not key:
            raise ConfigError(f"{item.where()}: empty key in {item.value!r}")
        if key in result:
            raise ConfigError(f"{item.where()}: duplicate key {key!r}")
        result[key] = value
    if pending.strip(", "):
        raise ConfigError(f"{item.where()}: expected 'key:value' pairs, got {pending.rstrip(',')!r}")
    return result


def parse_bool(item: ConfValue) -> bool:
    value = item.value.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{item.where()}: expected true or false, got {item.value!r}")


def parse_int(item: ConfValue, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        number = int(item.value.strip())
    except ValueError:
        raise ConfigError(f"{item.where()}: expected an integer, got {item.value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{item.where()}: must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{item.where()}: must be at most {maximum}, got {number}")
    return number


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text

"""Editing a test's private copy of config/."""

from __future__ import annotations

from pathlib import Path


def set_option(config_dir: Path, filename: str, section: str, key: str, value: str) -> None:
    """Set ``key = value`` in ``[section]`` of a config file (appending the section if needed)."""
    path = config_dir / filename
    lines = path.read_text().splitlines()
    out, in_section, done = [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            if in_section and not done:
                out.append(f"{key} = {value}")
                done = True
            in_section = stripped == f"[{section}]"
        elif in_section and not done and stripped.split("=")[0].strip() == key:
            out.append(f"{key} = {value}")
            done = True
            continue
        out.append(line)
    if not done:
        if not in_section:
            out.append(f"[{section}]")
        out.append(f"{key} = {value}")
    path.write_text("\n".join(out) + "\n")

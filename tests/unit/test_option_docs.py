"""docs/configuration.md's option tables are what the declarations (settings/options.py) generate."""

from __future__ import annotations

import dataclasses

from image_import_dev.options import BEGIN, END, PAGE, main, render, tables

from image_import.settings import options
from tests.support.paths import ROOT


def test_the_option_reference_is_what_the_declarations_generate():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == render(page), "docs/configuration.md is stale: run `make docs`"
    assert PAGE == ROOT / "docs" / "configuration.md"


def test_every_declared_option_has_a_row():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    generated = page.split(BEGIN, 1)[1].split(END, 1)[0]
    for declared in options.OPTIONS:
        assert f"| `{declared.label}` |" in generated


def test_a_changed_declaration_makes_the_check_fail(tmp_path, monkeypatch):
    page = tmp_path / "configuration.md"
    page.write_text(f"# Configuration\n\n{BEGIN}\n{END}\n", encoding="utf-8")
    assert main(["--page", str(page)]) == 0  # generated
    assert main(["--check", "--page", str(page)]) == 0
    changed = tuple(
        dataclasses.replace(o, default=50) if o.name == "limit_param_default" else o for o in options.OPTIONS
    )
    monkeypatch.setattr("image_import_dev.options.OPTIONS", changed)
    assert "`[DEFAULT] limit_param_default` | integer, at least 1 | `50` |" in tables()
    assert main(["--check", "--page", str(page)]) == 1

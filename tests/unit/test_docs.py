"""The README a newcomer walks and the reference pages in docs/: every page reachable, every link resolving.

Given the README and docs/*.md as they are committed, when their links and headings are read as GitHub
renders them, then nothing a reader follows leads nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

LINK = re.compile(r"(?<!\!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<text>.+?)\s*#*\s*$")


def prose(path: Path) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (not - or _), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str]]:
    found = []
    for line in prose(path):
        if match := HEADING.match(line):
            found.append((len(match["level"]), match["text"]))
    return found


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for _, text in headings(path):
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> list[str]:
    return [m["target"] for line in prose(path) for m in LINK.finditer(re.sub(r"`[^`]*`", "", line))]


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: are not ours to check


def test_every_relative_link_in_the_readme_and_docs_resolves_to_a_file_and_anchor():
    broken = []
    for page in pages():
        for target in filter(relative, links(page)):
            path_part, _, anchor = target.partition("#")
            file = (page.parent / path_part).resolve() if path_part else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_every_docs_page_is_reachable_from_the_readme():
    reached, todo = {README.resolve()}, [README]
    while todo:
        page = todo.pop()
        for target in filter(relative, links(page)):
            file = (page.parent / target.partition("#")[0]).resolve()
            if file.suffix == ".md" and file.exists() and file not in reached:
                reached.add(file)
                todo.append(file)
    unreached = [str(p.relative_to(ROOT)) for p in DOCS.glob("*.md") if p.resolve() not in reached]
    assert unreached == []


def test_the_readme_links_every_docs_page_itself():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in filter(relative, links(README))}
    missing = [str(p.relative_to(ROOT)) for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert missing == []


def test_the_readme_has_a_table_of_contents_matching_its_headings():
    lines = prose(README)
    start = lines.index("## Contents")
    entries = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if match := re.match(r"^(?P<indent> *)- \[(?P<text>[^\]]+)\]\(#(?P<anchor>[^)]+)\)$", line):
            entries.append((len(match["indent"]) // 2 + 2, match["text"], match["anchor"]))
        else:
            assert line.strip() == "", f"not a contents entry: {line!r}"
    sections = [(level, text) for level, text in headings(README) if level in (2, 3) and text != "Contents"]
    assert [(level, text) for level, text, _ in entries] == sections
    assert all(anchor == slug(text) for _, text, anchor in entries)


INTERNAL_NUMBER = re.compile(r"\b(issue|issues|ticket|tickets|stop)\s+#?\d+|(?<![\w&/])#\d+\b|\bticket\b", re.I)


def test_the_decision_log_names_no_internal_ticket_numbers():
    offending = [line for line in (DOCS / "decisions.md").read_text().splitlines() if INTERNAL_NUMBER.search(line)]
    assert offending == []


def test_the_readme_names_every_make_target():
    makefile = (ROOT / "Makefile").read_text()
    targets = re.search(r"^\.PHONY: (.+)$", makefile, re.M)[1].split()
    text = README.read_text()
    unnamed = [t for t in targets if t != "print-python312" and f"make {t}" not in text]
    assert unnamed == []

"""The optional extras bring what their feature needs, and the README lists them all."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    return extras


def _resolved(extra: str) -> set[str]:
    """The distributions ``crmcore[extra]`` installs, crmcore's own extras followed."""
    names: set[str] = set()
    for requirement in _extras()[extra]:
        own = re.fullmatch(r"crmcore\[([a-z,]+)\]", requirement)
        if own:
            for inner in own.group(1).split(","):
                names |= _resolved(inner)
        else:
            names.add(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower())
    return names


def test_the_cli_extra_brings_the_chinese_calendar() -> None:
    """crmcore[cli] installs borax: the demo's summary over any database can show lunar dates."""
    assert {"click", "rich", "borax"} <= _resolved("cli")


def test_the_readme_lists_every_extra_but_test() -> None:
    """Each extra a user may install has a row in the README's table of extras."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z]+)` \|", readme, flags=re.MULTILINE))
    assert listed == set(_extras()) - {"test"}

"""The finding-code catalogue: complete in both locales, documented, and used."""

from __future__ import annotations

import doctest
import importlib
import pathlib
import re
from typing import Any

import pytest

from crmcore.rules.verification import CATALOGUE, finding, render_finding_codes
from crmcore.rules.verification.messages import SEVERITIES, placeholders

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "src" / "crmcore" / "rules" / "verification"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_both_messages_with_same_parameters(code: str) -> None:
    """Every code has an English and a Chinese message using the same parameters."""
    info = CATALOGUE[code]
    assert info.en.strip()
    assert info.zh.strip()
    assert info.en != info.zh
    assert placeholders(info.en) == placeholders(info.zh)
    assert info.severity in SEVERITIES
    assert re.fullmatch(r"[a-z]+(\.[a-z_]+)+", code)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_formats_in_both_locales(code: str) -> None:
    """Each message formats in both locales with its parameters; the code never changes."""
    params: dict[str, Any] = dict.fromkeys(placeholders(CATALOGUE[code].en), "x")
    en = finding(code, "$.x", locale="en", **params)
    zh = finding(code, "$.x", locale="zh", **params)
    assert en.code == zh.code == code
    assert en.path == zh.path == "$.x"
    assert "{" not in en.message
    assert "{" not in zh.message


def test_every_emitted_code_is_in_the_catalogue() -> None:
    """Every code string the rules pass to finding() is catalogued, and every one is used."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py"))
    literal = set(
        re.findall(
            r'"((?:phone|email|name|address|required|date|age|value|contact|'
            r'provenance|quality|verification|conflict)\.[a-z_]+)"',
            source,
        )
    )
    parse_codes = {
        "phone.invalid_country_code",
        "phone.not_a_number",
        "phone.too_short",
        "phone.too_long",
    }
    construction_codes = {"value.blank", "value.not_allowed"}  # model codes raised by specs
    assert literal - construction_codes <= set(CATALOGUE)
    assert set(CATALOGUE) <= literal | parse_codes


def test_finding_codes_doc_is_in_sync() -> None:
    """docs/finding-codes.md is exactly what render_finding_codes() generates."""
    doc = ROOT / "docs" / "finding-codes.md"
    assert doc.read_text(encoding="utf-8") == render_finding_codes(), (
        "regenerate with: python -c 'from crmcore.rules.verification import "
        'render_finding_codes as r; print(r(), end="")\' > docs/finding-codes.md'
    )


def test_rendered_table_lists_every_code() -> None:
    """The rendered table has one row per code."""
    rows = [line for line in render_finding_codes().splitlines() if line.startswith("| `")]
    assert len(rows) == len(CATALOGUE)


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("*.py")))
def test_module_examples_run(module: str) -> None:
    """The examples in each module's docstrings run as written."""
    name = "crmcore.rules.verification" + ("" if module == "__init__" else f".{module}")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

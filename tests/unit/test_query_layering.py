"""The query package and the rules stay on the domain side of the ports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "crmcore"
ADAPTERS = ("crmcore.storage", "crmcore.serialization", "crmcore.cli", "crmcore.testing")


def _imports(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["query", "rules", "models"])
def test_the_domain_imports_no_adapter(package: str) -> None:
    """query/, rules/ and models/ import nothing from storage, serialization, cli or testing."""
    found = {
        f"{source.relative_to(SRC)}: {name}"
        for source in sorted((SRC / package).rglob("*.py"))
        for name in _imports(source)
        if name.startswith(ADAPTERS)
    }
    assert not found

"""The package version is written once, in ``crmcore.__version__``."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import crmcore

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_installed_metadata_carries_the_package_version() -> None:
    """The distribution's version is the one ``crmcore.__version__`` states."""
    assert importlib.metadata.version("crmcore") == crmcore.__version__


def test_pyproject_reads_the_version_from_the_package() -> None:
    """pyproject.toml does not repeat the version: hatch reads it from ``__init__.py``."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/crmcore/__init__.py"

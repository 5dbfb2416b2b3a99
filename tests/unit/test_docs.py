"""The documentation stays in sync with the code it describes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import crmcore
import crmcore.errors
import crmcore.models
from crmcore._apidoc import render_module

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "crmcore"


def test_models_api_page_is_generated_from_the_code() -> None:
    """docs/api/models.md is exactly what `python -m crmcore._apidoc` renders."""
    page = (ROOT / "docs" / "api" / "models.md").read_text(encoding="utf-8")
    assert page == render_module(crmcore.models, "API reference: crmcore.models"), (
        "regenerate with: python -m crmcore._apidoc"
    )


def test_every_exception_and_its_code_is_documented() -> None:
    """Each class in crmcore.errors appears in docs/errors.md with its code."""
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for name in crmcore.errors.__all__:
        obj = getattr(crmcore.errors, name)
        if isinstance(obj, type) and issubclass(obj, crmcore.errors.CrmError):
            assert f"| `{name}` |" in page
            assert f"`{obj.code}`" in page


def test_every_model_query_storage_and_converter_code_is_documented() -> None:
    """Each problem code the models, queries, storage or converter write is in docs/errors.md."""
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    sources = [
        *sorted((SRC / "models").glob("*.py")),
        *sorted((SRC / "storage").rglob("*.py")),
        SRC / "serialization.py",
        *sorted((SRC / "query").glob("*.py")),
    ]
    codes: set[str] = set()
    for source in sources:
        text = source.read_text(encoding="utf-8")
        codes.update(re.findall(r'code="([a-z_]+\.[a-z_.]+)"', text))
        codes.update(re.findall(r'_fail\(\s*"([a-z_]+\.[a-z_.]+)"', text))
        codes.update(re.findall(r'_problem\(\s*"([a-z_]+\.[a-z_.]+)"', text))
    assert len(codes) > 20
    missing = sorted(code for code in codes if f"| `{code}` |" not in page)
    assert not missing, f"document these codes in docs/errors.md: {missing}"


def _public_modules() -> list[str]:
    names = ["crmcore"]
    for info in pkgutil.walk_packages(crmcore.__path__, "crmcore."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or "migrations" in parts:
            continue
        names.append(info.name)
    return names


def test_every_public_module_declares_all_and_docstrings() -> None:
    """Each public module has a docstring and __all__, and every exported callable a docstring."""
    modules = _public_modules()
    assert len(modules) > 20
    missing: list[str] = []
    for name in modules:
        module = importlib.import_module(name)
        if not (module.__doc__ or "").strip():
            missing.append(f"{name} (module docstring)")
        if not hasattr(module, "__all__"):
            missing.append(f"{name}.__all__")
            continue
        for export in module.__all__:
            obj = getattr(module, export)
            is_code = inspect.isfunction(obj) or inspect.isclass(obj)
            if is_code and not (obj.__doc__ or "").strip():
                missing.append(f"{name}.{export}")
    assert not missing, missing

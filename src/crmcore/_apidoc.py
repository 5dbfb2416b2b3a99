"""Render the API reference pages in docs/api/ from the code (kept in sync by a test).

Run ``python -m crmcore._apidoc`` to rewrite them.
"""

from __future__ import annotations

import enum
import inspect
import sys
from pathlib import Path
from types import ModuleType

import attrs

from crmcore.models._types import field_types

__all__ = ["render_module", "write_pages"]


def _first_paragraph(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _default_text(field: attrs.Attribute[object]) -> str:
    default = field.default
    if default is attrs.NOTHING:
        return "required"
    factory = getattr(default, "factory", None)
    if factory is not None:
        return f"`{getattr(factory, '__name__', 'factory')}()`"
    if isinstance(default, enum.Enum):
        return f"`{default.value!r}`"
    return f"`{default!r}`"


def _render_class(name: str, cls: type) -> list[str]:
    lines = [f"## `{name}`", "", _first_paragraph(cls), ""]
    if attrs.has(cls):
        nodes = field_types(cls, strict=False)
        lines += ["| field | type | default |", "| --- | --- | --- |"]
        for field in attrs.fields(cls):
            type_text = nodes[field.name].describe().replace("|", "\\|")
            lines.append(f"| `{field.name}` | `{type_text}` | {_default_text(field)} |")
        lines.append("")
        methods = [
            (n, m)
            for n, m in inspect.getmembers(cls)
            if (
                not n.startswith("_")
                and n in cls.__dict__
                and (inspect.isfunction(m) or isinstance(inspect.getattr_static(cls, n), property))
            )
            or (n in cls.__dict__ and isinstance(cls.__dict__[n], classmethod))
        ]
        if methods:
            lines += ["| method or property | what it does |", "| --- | --- |"]
            for method_name, member in methods:
                doc = _first_paragraph(member).replace("|", "\\|")
                lines.append(f"| `{method_name}` | {doc} |")
            lines.append("")
    elif issubclass(cls, enum.Enum):
        values = ", ".join(f"`{m.value}`" for m in cls)
        lines += [f"Values: {values}.", ""]
    return lines


def render_module(module: ModuleType, title: str) -> str:
    """Render one markdown page documenting every public name of ``module``."""
    lines = [
        f"# {title}",
        "",
        f"Generated from `{module.__name__}` by `python -m crmcore._apidoc`; do not edit.",
        "",
        _first_paragraph(module),
        "",
    ]
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, type):
            lines += _render_class(name, obj)
        elif callable(obj):
            lines += [
                f"## `{name}{inspect.signature(obj)}`",
                "",
                _first_paragraph(obj),
                "",
            ]
        else:
            lines += [f"## `{name}`", "", "A constant; see the module source.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _pages() -> dict[str, str]:
    import crmcore.models

    return {"models.md": render_module(crmcore.models, "API reference: crmcore.models")}


def write_pages(directory: Path) -> list[Path]:
    """Write every generated API page into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in _pages().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/api")
    for path in write_pages(target):
        print(path)

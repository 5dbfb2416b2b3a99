"""Decoding filter trees from plain data: one dispatch on ``op`` per node, depth bounded.

A filter node names its own class with its ``op`` tag (``"eq"``, ``"in"``, ``"or"``,
...). :func:`filter_hook_factory` gives crmcore's cattrs converter a structure hook for
:data:`~crmcore.query.AnyFilter` (and ``AnyFilter | None``) that reads the tag once and
structures the node as that class, so decoding a tree is linear in its size (trying the
union's members in turn would decode every subtree once per member, exponential in the
depth). The hook also bounds the nesting depth: a tree deeper than
:data:`MAX_FILTER_DEPTH` is refused with ``query.too_deep`` before Python's recursion
limit is reached. :func:`register_filter_hooks` installs it on a converter;
:func:`crmcore.serialization.make_converter` calls it.
"""

from __future__ import annotations

import contextvars
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from crmcore.errors import Problem, ValidationError
from crmcore.query.filters import (
    And,
    AnyFilter,
    Compare,
    In,
    IsNull,
    MonthDay,
    Not,
    Op,
    Or,
    Reachable,
    Search,
)

if typing.TYPE_CHECKING:
    import cattrs

__all__ = [
    "FILTER_CLASSES",
    "MAX_FILTER_DEPTH",
    "filter_class",
    "filter_hook_factory",
    "is_filter_type",
    "register_filter_hooks",
]

MAX_FILTER_DEPTH = 64
"""The deepest filter tree a query may hold (a leaf alone has depth 1).

Decoding and :meth:`crmcore.query.Query.validate` refuse a deeper one with
``query.too_deep``.
"""

FILTER_CLASSES: tuple[type, ...] = typing.get_args(AnyFilter)
"""The filter node classes, in the order of :data:`~crmcore.query.AnyFilter`."""

_BY_OP: dict[str, type] = {
    **{op.value: Compare for op in Op},
    "in": In,
    "is_null": IsNull,
    "search": Search,
    "month_day": MonthDay,
    "reachable": Reachable,
    "and": And,
    "or": Or,
    "not": Not,
}
_ALLOWED = ", ".join(repr(op) for op in _BY_OP)

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("crmcore_filter_depth", default=0)


def _fail(code: str, message: str, path: str = "$") -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)])


def filter_class(op: object) -> type | None:
    """The filter class a node with tag ``op`` is an instance of (``None``: no such tag)."""
    return _BY_OP.get(op) if isinstance(op, str) else None


def is_filter_type(tp: Any) -> bool:
    """True for :data:`~crmcore.query.AnyFilter` and ``AnyFilter | None``."""
    if typing.get_origin(tp) not in (types.UnionType, typing.Union):
        return False
    members = {a for a in typing.get_args(tp) if a is not type(None)}
    return members == set(FILTER_CLASSES)


def filter_hook_factory(
    converter: cattrs.Converter,
) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """A cattrs hook factory structuring filter nodes by their ``op`` tag."""

    def factory(tp: Any) -> Callable[[Any, Any], Any]:
        optional = type(None) in typing.get_args(tp)

        def structure(value: Any, _: Any) -> Any:
            if value is None:
                if optional:
                    return None
                raise _fail("type.invalid", "must not be null")
            if not isinstance(value, Mapping):
                got = type(value).__name__
                raise _fail("type.invalid", f'expected a filter object with an "op", got {got}')
            if "op" not in value:
                raise _fail("field.required", "is required", "$.op")
            op = value["op"]
            cls = filter_class(op)
            if cls is None:
                shown = repr(op) if isinstance(op, str | int | float | bool) else type(op).__name__
                raise _fail("value.not_allowed", f"{shown[:80]} is not one of {_ALLOWED}", "$.op")
            depth = _depth.get() + 1
            if depth > MAX_FILTER_DEPTH:
                raise _fail(
                    "query.too_deep",
                    f"filters are nested more than {MAX_FILTER_DEPTH} deep",
                )
            token = _depth.set(depth)
            try:
                return converter.structure(value, cls)
            finally:
                _depth.reset(token)

        return structure

    return factory


def register_filter_hooks(converter: cattrs.Converter) -> None:
    """Install the filter decoding hook on ``converter`` (after its union hook)."""
    converter.register_structure_hook_factory(is_filter_type, filter_hook_factory(converter))

"""A month-day window that wraps the year end, as the index table answers it fastest.

``Field("person.birthday").month_day_between("12-25", "01-07")`` holds for the
customers with an entry ``>= "12-25"`` or ``<= "01-07"`` of ``person.birthday#month_day``:
two ranges of the ``(path, text_value, customer_id)`` index. Written as one ``OR`` inside
one subquery, SQLite reads the two ranges with a ``MULTI-INDEX OR`` whose row set, on the
``WITHOUT ROWID`` index table, costs several times the ranges themselves; as a
``UNION ALL`` of the two ranges it reads just them. PostgreSQL (a ``BitmapOr``) and
MariaDB (which may run an ``IN (... UNION ...)`` once per row) keep the ``OR``.
:class:`WrappedWindow` is the condition ``id IN (...)`` that compiles to each form, and
keeps the two range selects for ``count`` (:mod:`._count`), which counts them without
touching the customer table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["WrappedWindow"]


class WrappedWindow(ColumnElement[bool]):
    """``ids IN (SELECT customer_id ... WHERE value >= start OR value <= end)``, per dialect.

    Attributes:
        ids: The customer id column the condition tests.
        either: The one select of the entries in either range (the ``OR`` form).
        upper: The select of the entries ``>= start``.
        lower: The select of the entries ``<= end`` (disjoint from ``upper``: the window
            wraps, so ``end < start``).
    """

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy reads the class attribute
        ("ids", InternalTraversal.dp_clauseelement),
        ("either", InternalTraversal.dp_clauseelement),
        ("upper", InternalTraversal.dp_clauseelement),
        ("lower", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, ids: ColumnElement[Any], either: Select[Any], upper: Select[Any], lower: Select[Any]
    ) -> None:
        self.ids = ids
        self.either = either
        self.upper = upper
        self.lower = lower


@compiles(WrappedWindow)
def _as_or(element: WrappedWindow, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.ids.in_(element.either), **kw)})"


@compiles(WrappedWindow, "sqlite")
def _as_union(element: WrappedWindow, compiler: SQLCompiler, **kw: Any) -> str:
    ranges = union_all(element.upper, element.lower)
    return f"({compiler.process(element.ids.in_(ranges), **kw)})"

"""Translating :class:`crmcore.query.Query` to SQL without changing its meaning.

The reference meaning of a query is :meth:`crmcore.query.Query.apply`. This module
pushes to SQL only what SQL reproduces exactly, and leaves the rest to the reference
predicate in Python:

* **Filters** become a SQL *pre-filter*: a condition every matching record meets.
  Comparisons, ``in`` and ``is_null`` on key columns translate exactly (nullable
  columns are guarded so SQL's three-valued logic never leaks into ``not``);
  anything else (paths inside the JSON document, text search) translates to "no
  constraint", or to a superset test on the customer's search columns. When the
  whole filter translated exactly, SQL's answer is final; otherwise each fetched
  record is checked with ``query.matches``.
* **Ordering** by key columns becomes ``ORDER BY`` (``None`` first ascending, last
  descending, ``id`` as the final tie-break, code-point collation), and the cursor a
  keyset condition; records are fetched in that order, chunk by chunk, until the
  page is full. An ordering by a path outside the key columns is sorted in Python
  over the pre-filtered records (``CompiledQuery.apply``).
* **Parameters** are budgeted (:data:`MAX_BOUND_VALUES`): leaves past the budget are
  left to Python, so no driver's parameter limit is ever reached.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any, cast

import attrs
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement as _Column

from crmcore.query import (
    And,
    AnyFilter,
    Compare,
    CompiledQuery,
    In,
    IsNull,
    Not,
    Op,
    Or,
    Search,
    coerce_value,
    resolve_path,
)
from crmcore.query.search import SEARCH_FIELDS, Needle, SearchField, search_needles
from crmcore.storage.sqlalchemy._schema import KEY_PATHS, date_key, utc_key
from crmcore.storage.sqlalchemy._search import LIKE_ESCAPE, like_pattern

__all__ = ["MAX_BOUND_VALUES", "SqlPlan", "plan"]

Condition = ColumnElement[bool]


def _column_form(value: Any) -> Any:
    """A comparable query value in the form its key column stores it."""
    if isinstance(value, dt.datetime):
        return utc_key(value)
    if isinstance(value, dt.date):
        return date_key(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


@attrs.frozen
class _Key:
    column: _Column[Any]
    nullable: bool


def _key(table: Table, model: type, path: str) -> _Key | None:
    """The key column holding ``path`` exactly, if there is one.

    A path listed in :data:`KEY_PATHS` for the table's kind is its typed column (money
    compared in micro-units); otherwise an undotted path naming a column is that column.
    """
    mapped = KEY_PATHS.get(getattr(model, "kind_name", ""), {}).get(path)
    if mapped is not None and mapped.column in table.c:
        column: _Column[Any] = table.c[mapped.column]
        if mapped.type is not None:
            column = type_coerce(column, mapped.type)
        return _Key(column=column, nullable=mapped.nullable)
    if "." in path or path == "doc" or path not in table.c:
        return None
    column = table.c[path]
    resolved = resolve_path(model, path)
    if resolved.many or not resolved.scalar:
        return None
    return _Key(column=column, nullable=bool(column.nullable))


@attrs.frozen
class _Translated:
    condition: Condition | None
    """``None``: no constraint."""
    exact: bool


_NOTHING = _Translated(None, False)


def _guard(key: _Key, condition: Condition) -> Condition:
    return and_(key.column.is_not(None), condition) if key.nullable else condition


def _compare(op: Op, column: _Column[Any], operand: Any) -> Condition:
    match op:
        case Op.EQ:
            result = column == operand
        case Op.NE:
            result = column != operand
        case Op.LT:
            result = column < operand
        case Op.LE:
            result = column <= operand
        case Op.GT:
            result = column > operand
        case Op.GE:
            result = column >= operand
        case Op.STARTS_WITH:
            result = func.substr(column, 1, len(operand)) == literal(operand)
        case _:  # pragma: no cover - CONTAINS never reaches here
            raise AssertionError(op)
    return cast(Condition, result)


MAX_BOUND_VALUES = 10_000
"""At most this many operands of one query are bound as SQL parameters.

Drivers and servers cap the parameters of one statement (PostgreSQL's protocol and
MariaDB at 65,535, SQLite at 32,766 by default): the leaves past the budget (a huge
``in``, a very wide ``or``) translate to "no constraint" and are checked in Python, so
every backend gives the reference answer instead of a driver error.
"""


class _Translator:
    def __init__(self, table: Table, model: type) -> None:
        self.table = table
        self.model = model
        self.bound = 0

    def _budget(self, count: int) -> bool:
        """Reserve ``count`` bound parameters; ``False`` when the budget would be exceeded."""
        if self.bound + count > MAX_BOUND_VALUES:
            return False
        self.bound += count
        return True

    def filter(self, node: AnyFilter) -> _Translated:
        if isinstance(node, Compare):
            return self._compare(node) if self._budget(1) else _NOTHING
        if isinstance(node, In):
            key = _key(self.table, self.model, node.path)
            if key is None or not self._budget(len(node.values)):
                return _NOTHING
            leaf = resolve_path(self.model, node.path).leaf
            values = [_column_form(coerce_value(leaf, v)) for v in node.values]
            return _Translated(_guard(key, key.column.in_(values)), True)
        if isinstance(node, IsNull):
            key = _key(self.table, self.model, node.path)
            if key is None:
                return _NOTHING
            return _Translated(key.column.is_(None) if key.nullable else false(), True)
        if isinstance(node, Search):
            needles = search_needles(node.text, node.also_digits)
            return self._search(needles) if self._budget(len(needles)) else _NOTHING
        if isinstance(node, And):
            parts = [self.filter(f) for f in node.filters]
            conditions = [p.condition for p in parts if p.condition is not None]
            exact = all(p.exact for p in parts)
            if not conditions:
                return _Translated(true() if exact else None, exact)
            return _Translated(and_(*conditions), exact)
        if isinstance(node, Or):
            parts = [self.filter(f) for f in node.filters]
            if not parts:
                return _Translated(false(), True)
            if any(p.condition is None for p in parts):
                return _NOTHING
            return _Translated(
                or_(*(p.condition for p in parts if p.condition is not None)),
                all(p.exact for p in parts),
            )
        if isinstance(node, Not):
            inner = self.filter(node.filter)
            if inner.exact and inner.condition is not None:
                return _Translated(not_(inner.condition), True)
            return _NOTHING
        return _NOTHING  # pragma: no cover - compile() rejected anything else

    def _compare(self, node: Compare) -> _Translated:
        key = _key(self.table, self.model, node.path)
        if key is None or node.op is Op.CONTAINS:
            return _NOTHING
        leaf = resolve_path(self.model, node.path).leaf
        is_enum = isinstance(leaf, type) and issubclass(leaf, enum.Enum)
        if node.op is Op.STARTS_WITH or (is_enum and node.op not in (Op.EQ, Op.NE)):
            operand: Any = node.value
        else:
            operand = _column_form(coerce_value(leaf, node.value))
        return _Translated(_guard(key, _compare(node.op, key.column, operand)), True)

    def _search(self, needles: Sequence[tuple[SearchField, Needle]]) -> _Translated:
        """A superset test on the customer's search columns (checked exactly in Python)."""
        if not all(field.column in self.table.c for field in SEARCH_FIELDS):
            return _NOTHING
        tests: list[Condition] = [
            self.table.c[field.column].like(
                like_pattern(needle.text, subsequence=needle.subsequence), escape=LIKE_ESCAPE
            )
            for field, needle in needles
        ]
        if not tests:
            return _Translated(false(), False)
        # Rows written before the search columns existed hold NULL: always candidates.
        unfilled = [self.table.c[field.column].is_(None) for field in SEARCH_FIELDS]
        return _Translated(or_(*unfilled, *tests), False)


@attrs.frozen
class _OrderKey:
    column: _Column[Any]
    descending: bool
    nullable: bool


def _order_by(keys: Sequence[_OrderKey]) -> list[Any]:
    clauses: list[Any] = []
    for key in keys:
        if key.nullable:
            # None first ascending, last descending, on every dialect.
            is_set = case((key.column.is_(None), 0), else_=1)
            clauses.append(is_set.desc() if key.descending else is_set.asc())
        clauses.append(key.column.desc() if key.descending else key.column.asc())
    return clauses


def _after(keys: Sequence[_OrderKey], values: Sequence[Any]) -> Condition:
    """Rows sorting strictly after ``values`` (column form, id last) in ``keys``' order."""
    alternatives: list[Condition] = []
    equal_so_far: list[Condition] = []
    for key, value in zip(keys, values, strict=True):
        column = key.column
        if value is None:
            beyond: Condition = (
                false() if key.descending else (column.is_not(None) if key.nullable else true())
            )
            same: Condition = column.is_(None) if key.nullable else false()
        else:
            if key.descending:
                beyond = or_(column < value, column.is_(None)) if key.nullable else column < value
            else:
                beyond = column > value
            same = column == value
        alternatives.append(and_(*equal_so_far, beyond) if equal_so_far else beyond)
        equal_so_far.append(same)
    return or_(*alternatives)


@attrs.frozen
class SqlPlan:
    """How a compiled query runs on one table.

    Attributes:
        where: The SQL pre-filter (``None``: every row is a candidate).
        exact: The pre-filter is exactly the query's filter (no Python check needed).
        order: The ordering keys, with ``id`` last, when every ordering path is a key
            column; ``None`` when the ordering must be done in Python.
        start: The cursor's values in column form (id last), or ``None``.
    """

    where: Condition | None
    exact: bool
    order: tuple[_OrderKey, ...] | None
    start: tuple[Any, ...] | None

    def order_by(self) -> list[Any]:
        """The ``ORDER BY`` clauses (only when :attr:`order` is set)."""
        assert self.order is not None
        return _order_by(self.order)

    def after(self, values: Sequence[Any]) -> Condition:
        """The keyset condition for rows after ``values`` (column form, id last)."""
        assert self.order is not None
        return _after(self.order, values)


def plan(compiled: CompiledQuery, table: Table) -> SqlPlan:
    """Plan ``compiled`` (checked against its model) on ``table``."""
    query, model = compiled.query, compiled.model
    if query.where is None:
        translated = _Translated(None, True)
    else:
        translated = _Translator(table, model).filter(query.where)
    where = translated.condition
    keys: list[_OrderKey] = []
    for order in query.order_by:
        key = _key(table, model, order.path)
        if key is None:
            return SqlPlan(where=where, exact=translated.exact, order=None, start=None)
        keys.append(_OrderKey(key.column, order.descending, key.nullable))
    keys.append(_OrderKey(table.c.id, False, False))
    start = None
    if compiled.cursor is not None:
        start = tuple(_column_form(v) for v in compiled.cursor)
    return SqlPlan(where=where, exact=translated.exact, order=tuple(keys), start=start)

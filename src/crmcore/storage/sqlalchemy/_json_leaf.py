"""Query leaves on document paths, for the SQL translator (``_query``).

A comparison, ``in``, ``is_null`` or ``month_day`` on a path that is neither a key
column nor indexed becomes a :class:`~crmcore.storage.sqlalchemy._json_filter.JsonTest`
over the stored document: the operand is read as the reference reads it
(:func:`crmcore.query.coerce_value`), the test typed by the leaf's type, and whether
the leaf field's default passes is decided here, in Python, from the reference's own
comparison (the codec leaves defaults out of the document). A leaf type this module
does not know is refused with ``query.not_in_sql``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Table, and_, false, func, literal, not_, or_

from crmcore.models import OptOut
from crmcore.query import (
    Compare,
    In,
    IsNull,
    MonthDay,
    Op,
    Reachable,
    coerce_value,
    resolve_path,
)
from crmcore.query._errors import query_problem
from crmcore.query.audience import CHANNEL_POINTS
from crmcore.query.month_days import in_window, month_day_of
from crmcore.query.operands import sort_value
from crmcore.storage.sqlalchemy._json_filter import (
    JsonStep,
    JsonTest,
    LeafTest,
    ReachableTest,
    Value,
    datetime_micros_of,
    decimal_compare,
)

__all__ = [
    "document_compare",
    "document_in",
    "document_is_null",
    "document_month_day",
    "document_reachable",
    "document_value",
]

Condition = ColumnElement[bool]


def _leaf_default(model: type, resolved: Any) -> Any:
    """The value a leaf absent from its (present) object stands for, ``None`` if none.

    The codec leaves out fields holding a plain default; fields with a factory default
    or none are always written, and an absent tuple is empty.
    """
    leaf = resolved.steps[-1]
    if leaf.many:
        return None
    parent = resolved.steps[-2].type if len(resolved.steps) > 1 else model
    field = attrs.fields_dict(parent)[leaf.name]
    default = field.default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return None
    return default


_SQL_OPS: dict[Op, Callable[[Any, Any], Condition]] = {
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
}


def _python_test(op: Op, operand: Any) -> Callable[[Any], bool]:
    """The reference's test of one comparable value (for a leaf's default)."""
    if op is Op.STARTS_WITH:
        return lambda v: bool(v.startswith(operand))
    return lambda v: bool(_SQL_OPS[op](v, operand))


def _leaf_test(path: str, leaf: Any, op: Op, operand: Any) -> LeafTest:
    """``value <op> operand`` on a document value of type ``leaf``, typed as the reference."""
    if leaf is bool:
        return lambda v: _SQL_OPS[op](v.flag(), int(operand))
    if leaf is int:
        return lambda v: _SQL_OPS[op](v.integer(), operand)
    if leaf is Decimal:
        return lambda v: v.decimal_test(lambda key: decimal_compare(str(op), key, operand))
    if leaf is dt.datetime:
        micros = datetime_micros_of(operand)
        return lambda v: _SQL_OPS[op](v.micros(), micros)
    if leaf in (str, dt.date) or (isinstance(leaf, type) and issubclass(leaf, enum.Enum)):
        text = operand.isoformat() if isinstance(operand, dt.date) else str(operand)
        if op is Op.STARTS_WITH:
            return lambda v: func.substr(v.text(), 1, len(text)) == literal(text)
        return lambda v: _SQL_OPS[op](v.text(), text)
    name = getattr(leaf, "__name__", repr(leaf))
    raise query_problem(
        "query.not_in_sql",
        "$.where",
        f"{path!r} holds a {name}, which SQL storage cannot compare inside the database",
    )


def document_value(
    table: Table,
    model: type,
    path: str,
    test: LeafTest | None,
    passes: Callable[[Any], bool] | None,
) -> Condition:
    """Some value on ``path`` in the document passes ``test`` (is not ``None``: no test)."""
    resolved = resolve_path(model, path)
    default = _leaf_default(model, resolved)
    if passes is None:
        default_passes = default is not None
    else:
        default_passes = default is not None and passes(sort_value(default))
    steps = [JsonStep(step.name, step.many) for step in resolved.steps]
    return JsonTest(table.c.doc, steps, test, default_passes=default_passes)


def document_compare(table: Table, model: type, node: Compare) -> Condition:
    leaf = resolve_path(model, node.path).leaf
    is_enum = isinstance(leaf, type) and issubclass(leaf, enum.Enum)
    if node.op is Op.STARTS_WITH or (is_enum and node.op not in (Op.EQ, Op.NE, Op.CONTAINS)):
        operand: Any = node.value
    else:
        operand = coerce_value(leaf, node.value)
    op = Op.EQ if node.op is Op.CONTAINS else node.op
    test = _leaf_test(node.path, leaf, op, operand)
    condition = document_value(table, model, node.path, test, _python_test(op, operand))
    return condition


def document_in(table: Table, model: type, node: In) -> Condition:
    leaf = resolve_path(model, node.path).leaf
    operands = list(dict.fromkeys(coerce_value(leaf, v) for v in node.values))
    if not operands:
        return false()
    tests = [_leaf_test(node.path, leaf, Op.EQ, operand) for operand in operands]
    wanted = set(operands)

    def test(value: Value) -> Condition:
        return or_(*(t(value) for t in tests))

    condition = document_value(table, model, node.path, test, lambda v: v in wanted)
    return condition


def document_month_day(table: Table, model: type, node: MonthDay) -> Condition:
    start, end = node.start, node.end

    def test(value: Value) -> Condition:
        month_day = func.substr(value.text(), 6, 5)
        if start <= end:
            return and_(month_day >= start, month_day <= end)
        return or_(month_day >= start, month_day <= end)

    def passes(value: Any) -> bool:
        return in_window(month_day_of(value), start, end)

    return document_value(table, model, node.path, test, passes)


def document_is_null(table: Table, model: type, node: IsNull) -> Condition:
    """Every value on the path is ``None``: no value that is not ``None`` is reached."""
    return not_(document_value(table, model, node.path, None, None))


def document_reachable(table: Table, model: type, node: Reachable) -> Condition:
    """Plain reachability (no purpose) on the customer document."""
    channel = OptOut(node.channel)
    return ReachableTest(
        table.c.doc, CHANNEL_POINTS[channel], str(channel.value), str(OptOut.ALL.value)
    )

"""The reference evaluator: what a query means, in Python.

:func:`compile_query` checks a :class:`~crmcore.query.Query` against a model (every
path, operator, operand and the cursor, with ``$.where...`` paths in its errors) and
returns a :class:`CompiledQuery`: the filter as a predicate, the resolved ordering
paths and the decoded cursor. :meth:`CompiledQuery.apply` is the reference result
every backend must reproduce. Compiled queries are cached per query and model.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.query._errors import query_problem
from crmcore.query.cursor import decode_cursor
from crmcore.query.filters import And, AnyFilter, Compare, In, IsNull, Not, Op, Or, Search
from crmcore.query.operands import coerce_value, sort_value
from crmcore.query.paths import ResolvedPath, resolve_path
from crmcore.query.search import matches_document, search_document, search_needles

if TYPE_CHECKING:
    from crmcore.query.spec import Query

__all__ = ["CompiledQuery", "Predicate", "compile_query"]

T = TypeVar("T")

Predicate = Callable[[Any], bool]
"""A compiled filter: a function of a record."""


def _compare_fn(op: Op, operand: Any) -> Callable[[Any], bool]:
    match op:
        case Op.EQ | Op.CONTAINS:
            return lambda v: bool(v == operand)
        case Op.NE:
            return lambda v: bool(v != operand)
        case Op.LT:
            return lambda v: bool(v < operand)
        case Op.LE:
            return lambda v: bool(v <= operand)
        case Op.GT:
            return lambda v: bool(v > operand)
        case Op.GE:
            return lambda v: bool(v >= operand)
        case Op.STARTS_WITH:
            return lambda v: bool(v.startswith(operand))
    raise AssertionError(op)  # pragma: no cover


def _path(model: type, path: str, where: str) -> ResolvedPath:
    """Resolve ``path``, reporting a wrong one at ``where``'s path."""
    try:
        return resolve_path(model, path)
    except ValidationError as error:
        raise query_problem(error.codes[0], where + ".path", error.problems[0].message) from None


def _scalar_path(model: type, path: str, where: str) -> ResolvedPath:
    resolved = _path(model, path, where)
    if not resolved.scalar:
        raise query_problem(
            "query.not_scalar",
            where + ".path",
            f"{path!r} is a {getattr(resolved.leaf, '__name__', resolved.leaf)}; "
            "compare one of its fields",
        )
    return resolved


def _any_value(resolved: ResolvedPath, test: Callable[[Any], bool]) -> Predicate:
    def predicate(record: Any) -> bool:
        for value in resolved.values(record):
            if value is not None and test(sort_value(value)):
                return True
        return False

    return predicate


def _compile_compare(node: Compare, model: type, where: str) -> Predicate:
    resolved = _scalar_path(model, node.path, where)
    if node.op is Op.STARTS_WITH and not (
        resolved.leaf is str or issubclass(resolved.leaf, enum.Enum)
    ):
        raise query_problem(
            "query.operator_invalid", where + ".op", f"{node.path!r} is not a string"
        )
    if node.op is Op.CONTAINS and not resolved.many:
        raise query_problem(
            "query.operator_invalid",
            where + ".op",
            f"contains needs a path that crosses a tuple; {node.path!r} does not",
        )
    if node.op is Op.STARTS_WITH:
        if not isinstance(node.value, str):
            raise query_problem("query.value_invalid", where + ".value", "expected a string")
        operand: Any = node.value
    elif issubclass(resolved.leaf, enum.Enum) and node.op not in (Op.EQ, Op.NE, Op.CONTAINS):
        if not isinstance(node.value, str):
            raise query_problem("query.value_invalid", where + ".value", "expected a string")
        operand = node.value
    else:
        operand = coerce_value(resolved.leaf, node.value, where=where + ".value")
    return _any_value(resolved, _compare_fn(node.op, operand))


def _compile_filter(node: AnyFilter, model: type, where: str) -> Predicate:
    if isinstance(node, Compare):
        return _compile_compare(node, model, where)
    if isinstance(node, In):
        resolved = _scalar_path(model, node.path, where)
        operands = {
            coerce_value(resolved.leaf, v, where=f"{where}.values[{i}]")
            for i, v in enumerate(node.values)
        }
        return _any_value(resolved, lambda v: v in operands)
    if isinstance(node, IsNull):
        resolved = _path(model, node.path, where)

        def is_null(record: Any) -> bool:
            return all(v is None for v in resolved.values(record))

        return is_null
    if isinstance(node, Search):
        if model is not Customer:
            raise query_problem(
                "query.search_unsupported",
                where,
                f"text search is defined for customers, not {model.__name__}",
            )
        needles = search_needles(node.text)
        return lambda record: matches_document(needles, search_document(record))
    if isinstance(node, And):
        parts = [
            _compile_filter(f, model, f"{where}.filters[{i}]") for i, f in enumerate(node.filters)
        ]
        return lambda record: all(p(record) for p in parts)
    if isinstance(node, Or):
        parts = [
            _compile_filter(f, model, f"{where}.filters[{i}]") for i, f in enumerate(node.filters)
        ]
        return lambda record: any(p(record) for p in parts)
    if isinstance(node, Not):
        inner = _compile_filter(node.filter, model, where + ".filter")
        return lambda record: not inner(record)
    raise query_problem("query.op_invalid", where, f"not a filter: {node!r}")


def _cmp(a: Any, b: Any) -> int:
    """Compare two comparable values, ``None`` first."""
    if a is None:
        return 0 if b is None else -1
    if b is None:
        return 1
    return -1 if a < b else (1 if a > b else 0)


@attrs.frozen
class CompiledQuery:
    """A :class:`Query` checked against one model, ready to evaluate.

    Attributes:
        query: The query.
        model: The model class it was checked against.
        predicate: The filter as a function of a record.
        order_paths: The resolved ordering paths, in order.
        cursor: The decoded cursor (sort values then id), or ``None``.
    """

    query: Query
    model: type
    predicate: Predicate
    order_paths: tuple[ResolvedPath, ...]
    cursor: tuple[Any, ...] | None

    def order_values(self, record: Any) -> tuple[Any, ...]:
        """The comparable sort values of ``record`` (without the id)."""
        return tuple(sort_value(p.values(record)[0]) for p in self.order_paths)

    def compare(self, a: Sequence[Any], b: Sequence[Any]) -> int:
        """Compare two sort keys (sort values then id) in this query's order."""
        for index, order in enumerate(self.query.order_by):
            result = _cmp(a[index], b[index])
            if result:
                return -result if order.descending else result
        last = len(self.query.order_by)
        return _cmp(a[last], b[last])

    def sort(self, records: Iterable[T]) -> list[T]:
        """``records`` in this query's order (stable multi-key sort, id last)."""
        items = sorted(records, key=lambda r: r.id)  # type: ignore[attr-defined]
        for path, order in reversed(list(zip(self.order_paths, self.query.order_by, strict=True))):
            items.sort(key=_sort_key(path), reverse=order.descending)
        return items

    def apply(self, records: Iterable[T]) -> list[T]:
        """Filter, order, cursor and limit ``records``: the reference result."""
        items = self.sort(r for r in records if self.predicate(r))
        if self.cursor is not None:
            cursor = self.cursor
            items = [
                r
                for r in items
                if self.compare((*self.order_values(r), r.id), cursor) > 0  # type: ignore[attr-defined]
            ]
        if self.query.limit is not None:
            items = items[: self.query.limit]
        return items


def _none_first(value: Any) -> tuple[bool, Any]:
    return (False, 0) if value is None else (True, value)


def _sort_key(path: ResolvedPath) -> Callable[[Any], tuple[bool, Any]]:
    def key(record: Any) -> tuple[bool, Any]:
        return _none_first(sort_value(path.values(record)[0]))

    return key


@functools.lru_cache(maxsize=512)
def compile_query(query: Query, model: type) -> CompiledQuery:
    """Check ``query`` against ``model`` and build its evaluator (cached per query and model)."""
    if not (isinstance(model, type) and attrs.has(model)):
        raise query_problem("query.model_invalid", "$", f"cannot query {model!r}")
    predicate: Predicate = (
        (lambda record: True)
        if query.where is None
        else _compile_filter(query.where, model, "$.where")
    )
    paths: list[ResolvedPath] = []
    for index, order in enumerate(query.order_by):
        where = f"$.order_by[{index}]"
        resolved = _scalar_path(model, order.path, where)
        if resolved.many:
            raise query_problem(
                "query.order_invalid",
                where + ".path",
                f"cannot order by {order.path!r}: it crosses a tuple",
            )
        paths.append(resolved)
    cursor = decode_cursor(query, model)
    return CompiledQuery(
        query=query, model=model, predicate=predicate, order_paths=tuple(paths), cursor=cursor
    )

"""The reference evaluator: what a query means, in Python.

:func:`compile_query` checks a :class:`~crmcore.query.Query` against a model (every
path, operator, operand and the cursor, with ``$.where...`` paths in its errors) and
returns a :class:`CompiledQuery`: the filter as a predicate, the resolved ordering
paths and the decoded cursor. :meth:`CompiledQuery.apply` is the reference result
every backend must reproduce. Compiled queries are cached per query and model: the
key (:func:`query_key`) keeps each operand's type, so queries Python finds equal
(``version == 1``, ``version == True``) are never confused, and the cache is bounded in
entries (:data:`CACHE_ENTRIES`) and estimated bytes (:data:`CACHE_BYTES`).
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.query._errors import query_problem
from crmcore.query.audience import is_reachable
from crmcore.query.cursor import decode_cursor
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
from crmcore.query.month_days import in_window, month_day_of
from crmcore.query.operands import coerce_value, sort_value
from crmcore.query.paths import ResolvedPath, resolve_path
from crmcore.query.search import matches_document, search_document, search_needles

if TYPE_CHECKING:
    from crmcore.query.spec import Query

__all__ = [
    "CACHE_BYTES",
    "CACHE_ENTRIES",
    "UNCACHED_BYTES",
    "CompiledQuery",
    "Predicate",
    "cache_stats",
    "clear_cache",
    "compile_query",
    "query_key",
]

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


def _compile_month_day(node: MonthDay, model: type, where: str) -> Predicate:
    resolved = _path(model, node.path, where)
    if resolved.leaf is not dt.date:
        name = getattr(resolved.leaf, "__name__", repr(resolved.leaf))
        raise query_problem(
            "query.operator_invalid",
            where + ".op",
            f"month_day needs a date path; {node.path!r} is a {name}",
        )
    start, end = node.start, node.end

    def predicate(record: Any) -> bool:
        return any(
            value is not None and in_window(month_day_of(value), start, end)
            for value in resolved.values(record)
        )

    return predicate


def _compile_reachable(node: Reachable, model: type, where: str) -> Predicate:
    if model is not Customer:
        raise query_problem(
            "query.operator_invalid",
            where + ".op",
            f"reachable is defined for customers, not {model.__name__}",
        )
    channel, purpose = node.channel, node.purpose
    return lambda record: is_reachable(record, channel, purpose)


def _compile_filter(node: AnyFilter, model: type, where: str) -> Predicate:
    if isinstance(node, Compare):
        return _compile_compare(node, model, where)
    if isinstance(node, MonthDay):
        return _compile_month_day(node, model, where)
    if isinstance(node, Reachable):
        return _compile_reachable(node, model, where)
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
        needles = search_needles(node.text, node.also_digits)
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


CACHE_ENTRIES = 512
"""At most this many compiled queries are cached."""

CACHE_BYTES = 4 * 1024 * 1024
"""The cached queries' estimated sizes add up to at most this many bytes."""

UNCACHED_BYTES = 64 * 1024
"""A query estimated larger than this is compiled on every call, never cached."""

_NODE_BYTES = 64  # the estimated size of one node or operand besides its text


def _operand_key(value: object) -> tuple[str, object]:
    """An operand with its type, so that ``1`` and ``True`` (equal in Python) differ."""
    return (type(value).__name__, value)


def query_key(query: Query) -> tuple[tuple[object, ...], int]:
    """The cache key of ``query`` and its estimated size in bytes, in one iterative walk.

    The key lists every node and operand with its type (``version == 1`` and
    ``version == True`` have different keys, though the queries compare equal). A
    filter tree deeper than :data:`~crmcore.query.decoding.MAX_FILTER_DEPTH` is refused
    with ``query.too_deep`` here, before anything recurses over it.
    """
    from crmcore.query.decoding import MAX_FILTER_DEPTH

    key: list[object] = [
        tuple((o.path, o.descending) for o in query.order_by),
        _operand_key(query.limit),
        query.after,
    ]
    size = _NODE_BYTES + len(query.after or "") + sum(len(o.path) for o in query.order_by)
    stack: list[tuple[object, int, str]] = []
    if query.where is not None:
        stack.append((query.where, 1, "$.where"))
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_FILTER_DEPTH:
            raise query_problem(
                "query.too_deep", where, f"filters are nested more than {MAX_FILTER_DEPTH} deep"
            )
        size += _NODE_BYTES
        if isinstance(node, Compare):
            key += ("c", str(node.op), node.path, _operand_key(node.value))
            size += len(node.path) + len(str(node.value))
        elif isinstance(node, In):
            key += ("i", node.path, len(node.values), *map(_operand_key, node.values))
            size += len(node.path) + sum(_NODE_BYTES + len(str(v)) for v in node.values)
        elif isinstance(node, IsNull):
            key += ("n", node.path)
            size += len(node.path)
        elif isinstance(node, Search):
            key += ("s", node.text, node.also_digits)
            size += len(node.text) + sum(len(d) for d in node.also_digits)
        elif isinstance(node, MonthDay):
            key += ("m", node.path, node.start, node.end)
            size += len(node.path) + 10
        elif isinstance(node, Reachable):
            key += ("r", str(node.channel), _operand_key(node.purpose))
            size += len(node.channel) + len(node.purpose or "")
        elif isinstance(node, And | Or):
            key += ("a" if isinstance(node, And) else "o", len(node.filters))
            for index in range(len(node.filters) - 1, -1, -1):
                stack.append((node.filters[index], depth + 1, f"{where}.filters[{index}]"))
        elif isinstance(node, Not):
            key.append("!")
            stack.append((node.filter, depth + 1, where + ".filter"))
        else:
            key.append(_operand_key(node))
    return tuple(key), size


class _Cache:
    """A least-recently-used cache bounded in entries and in estimated bytes."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self._entries = entries
        self._max_bytes = max_bytes
        self._items: OrderedDict[object, tuple[CompiledQuery, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: object) -> CompiledQuery | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: object, compiled: CompiledQuery, size: int) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (compiled, size)
            self._bytes += size
            while len(self._items) > self._entries or self._bytes > self._max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stats(self) -> tuple[int, int]:
        with self._lock:
            return len(self._items), self._bytes


_cache = _Cache(CACHE_ENTRIES, CACHE_BYTES)


def cache_stats() -> tuple[int, int]:
    """How many compiled queries are cached, and their estimated size in bytes."""
    return _cache.stats()


def clear_cache() -> None:
    """Forget every cached compiled query."""
    _cache.clear()


def compile_query(query: Query, model: type) -> CompiledQuery:
    """Check ``query`` against ``model`` and build its evaluator.

    Compiled queries are cached per query (:func:`query_key`: operands keep their
    type) and model, at most :data:`CACHE_ENTRIES` of them and :data:`CACHE_BYTES` in
    all; a query larger than :data:`UNCACHED_BYTES` is not cached.
    """
    if not (isinstance(model, type) and attrs.has(model)):
        raise query_problem("query.model_invalid", "$", f"cannot query {model!r}")
    flat, size = query_key(query)
    key = (model, flat)
    if size <= UNCACHED_BYTES:
        cached = _cache.get(key)
        if cached is not None:
            return cached
    compiled = _compile(query, model)
    if size <= UNCACHED_BYTES:
        _cache.put(key, compiled, size)
    return compiled


def _compile(query: Query, model: type) -> CompiledQuery:
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

"""Translating :class:`crmcore.query.Query` to SQL without changing its meaning.

The reference meaning of a query is :meth:`crmcore.query.Query.apply`. This module
pushes to SQL only what SQL reproduces exactly, and leaves the rest to the reference
predicate in Python:

* **Filters** become a SQL *pre-filter*: a condition every matching record meets.
  Comparisons, ``in`` and ``is_null`` on key columns translate exactly (nullable
  columns are guarded so SQL's three-valued logic never leaks into ``not``).
  On a customer path of the backend's :class:`~crmcore.storage.indexing.IndexSet`
  they translate exactly to ``EXISTS`` / ``NOT EXISTS`` over the index table
  ``crm_customer_index``, with the reference's existential meaning: a comparison or
  ``in`` holds when *some* non-``None`` value satisfies it (an entry exists), ``is_null``
  when every value is ``None`` (no entry exists); text longer than the indexed column
  is compared in full (:func:`_text_condition`). Any other path, and plain
  :class:`Reachable`, translates exactly to the dialect's JSON functions over the
  stored document (``_json_leaf``, ``_json_filter``), or is refused with
  ``query.not_in_sql``. Text search is a superset test on the search columns. When
  the whole filter translated exactly, SQL's answer is final; otherwise each fetched
  record is checked with ``query.matches``. :func:`explain` says which leaves ran where.
* **Ordering** by key columns, or by single-valued indexed paths, becomes ``ORDER BY``
  (``None`` first ascending, last descending, ``id`` as the final tie-break, code-point
  collation), and the cursor a keyset condition; a first key that can be ``None`` is
  read as two segments, the rows with a value (an index walk) and those without
  (:mod:`._order`). Records are fetched in that order, chunk by chunk, until the page
  is full. An ordering by any other path is sorted in Python over the pre-filtered
  records (``CompiledQuery.apply``).
* **Parameters** are budgeted (:data:`MAX_BOUND_VALUES`): leaves past the budget are
  left to Python, so no driver's parameter limit is ever reached.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any, Literal, cast

import attrs
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement as _Column

from crmcore.models import Customer, CustomerKind
from crmcore.models.checks import INT_MAX, INT_MIN
from crmcore.query import (
    And,
    AnyFilter,
    Compare,
    CompiledQuery,
    In,
    IsNull,
    MonthDay,
    Not,
    Op,
    Or,
    Reachable,
    Search,
    coerce_value,
    resolve_path,
)
from crmcore.query._errors import query_problem
from crmcore.query.audience import audience_key
from crmcore.query.search import SEARCH_FIELDS, Needle, SearchField, search_needles
from crmcore.storage.indexing import (
    MONTH_DAY_SUFFIX,
    REACHABLE_PATH,
    IndexedPath,
    IndexSet,
    index_form,
)
from crmcore.storage.sqlalchemy._json_leaf import (
    document_compare,
    document_in,
    document_is_null,
    document_month_day,
    document_reachable,
)
from crmcore.storage.sqlalchemy._order import OrderKey, Segment, Sort, first_segments, segments
from crmcore.storage.sqlalchemy._schema import (
    INDEX,
    INDEX_TEXT_LENGTH,
    KEY_PATHS,
    date_key,
    utc_key,
)
from crmcore.storage.sqlalchemy._search import LIKE_ESCAPE, NeedleGroup, decidable, like_pattern
from crmcore.storage.sqlalchemy._window import WrappedWindow

__all__ = ["MAX_BOUND_VALUES", "Explanation", "PlanStep", "SqlPlan", "explain", "plan"]

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
    searches: tuple[NeedleGroup, ...] | None = None
    """When not exact: the text searches that are all the Python check left (the rest is
    exact in SQL), each decided on the search columns (:func:`._search.column_verdict`);
    ``None`` when the check needs the whole reference predicate."""

    @property
    def residual(self) -> tuple[NeedleGroup, ...] | None:
        """The searches left to check: none when exact (see :attr:`searches`)."""
        return () if self.exact else self.searches


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


# --------------------------------------------------------------------------- the index table

_TEXT_OPS: dict[Op, Callable[[Any, Any], Condition]] = {
    Op.EQ: lambda a, b: a == b,
    Op.CONTAINS: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
}


def _full(entry: Any) -> _Column[Any]:
    """The whole text of an entry: ``text_full`` when it is long, else ``text_value``."""
    return func.coalesce(entry.c.text_full, entry.c.text_value)


def _text_condition(entry: Any, op: Op, operand: str) -> Condition:
    """``value <op> operand`` for a text entry, exact whatever the lengths.

    ``text_value`` holds the first :data:`INDEX_TEXT_LENGTH` characters ``v[:N]``. For an
    operand ``x`` shorter than ``N``, ``v <op> x`` is ``v[:N] <op> x``; for a longer one
    with prefix ``p = x[:N]``, ``v < x`` is ``v[:N] < p OR (v[:N] = p AND v < x)``,
    comparing the whole value only among entries sharing the prefix (the same for the
    other orders; ``=`` is ``v[:N] = p AND v = x``).
    """
    tv = entry.c.text_value
    n = INDEX_TEXT_LENGTH
    if op is Op.STARTS_WITH:
        if len(operand) <= n:
            # The range bound lets the (path, text_value) index find the candidates.
            return and_(tv >= operand, func.substr(tv, 1, len(operand)) == literal(operand))
        return and_(
            tv == operand[:n], func.substr(_full(entry), 1, len(operand)) == literal(operand)
        )
    if len(operand) < n:
        return _TEXT_OPS[op](tv, operand)
    prefix = operand[:n]
    if op in (Op.EQ, Op.CONTAINS):
        return and_(tv == prefix, _full(entry) == operand)
    if op is Op.NE:
        return or_(tv != prefix, _full(entry) != operand)
    strict = Op.LT if op in (Op.LT, Op.LE) else Op.GT
    return or_(
        _TEXT_OPS[strict](tv, prefix),
        and_(tv == prefix, _TEXT_OPS[op](_full(entry), operand)),
    )


def _clamp(value: int) -> int:
    """An integer operand within one of the stored range (every stored integer is 32-bit)."""
    return max(INT_MIN - 1, min(INT_MAX + 1, value))


_ENTRY = INDEX.alias("entry")
"""The index table as the subqueries of filter leaves name it (one alias object: building
a new one for every leaf costs more than running a selective query)."""


def _entry_exists(table: Table, path: str, test: Callable[[Any], Condition] | None) -> Condition:
    """Some index entry of ``path`` of the row's customer passes ``test`` (any, when ``None``).

    Written ``id IN (SELECT customer_id ...)`` rather than a correlated ``EXISTS``: SQLite
    then reads the matching entries from the (path, value) index and probes the
    customers by primary key, instead of probing the index once per customer; PostgreSQL
    and MariaDB plan both forms as the same semi-join. ``customer_id`` is never NULL, so
    ``NOT IN`` is the exact negation.
    """
    entry = _ENTRY
    conditions = [entry.c.path == path]
    if test is not None:
        conditions.append(test(entry))
    return table.c.id.in_(select(entry.c.customer_id).where(*conditions))


Where = Literal["column", "index", "document", "search", "python"]


@attrs.frozen
class PlanStep:
    """One filter leaf or ordering of a query, and where it runs.

    Attributes:
        path: The field path (``"*search*"`` for a text search).
        op: The operator (``"eq"``, ``"in"``, ``"is_null"``, ``"search"``, ``"order"``).
        where: ``"column"`` (a key column, in SQL), ``"index"`` (the index table, in
            SQL), ``"document"`` (the stored JSON document, in SQL: see
            ``_json_filter``), ``"search"`` (a SQL pre-filter on the search columns, checked in
            Python) or ``"python"`` (checked or sorted in Python only).
    """

    path: str
    op: str
    where: Where

    @property
    def in_sql(self) -> bool:
        """True when SQL answers this step exactly."""
        return self.where in ("column", "index", "document")


@attrs.frozen
class Explanation:
    """Where each part of a query runs (:meth:`SqlBackend.explain`).

    Attributes:
        exact: SQL answers the whole filter: no record is checked in Python.
        ordered_in_sql: SQL orders (and pages) the result.
        filters: The filter's leaves, in the filter's order.
        orders: The orderings.
    """

    exact: bool
    ordered_in_sql: bool
    filters: tuple[PlanStep, ...]
    orders: tuple[PlanStep, ...]

    @property
    def python_paths(self) -> tuple[str, ...]:
        """The paths of every step not answered exactly in SQL."""
        return tuple(s.path for s in (*self.filters, *self.orders) if not s.in_sql)


class _Translator:
    def __init__(self, table: Table, model: type, indexes: IndexSet | None) -> None:
        self.table = table
        self.model = model
        self.indexes = indexes
        self.bound = 0
        self.steps: list[PlanStep] = []

    def _budget(self, count: int) -> bool:
        """Reserve ``count`` bound parameters; ``False`` when the budget would be exceeded."""
        if self.bound + count > MAX_BOUND_VALUES:
            return False
        self.bound += count
        return True

    def _step(self, path: str, op: str, result: _Translated, where: Where) -> _Translated:
        self.steps.append(PlanStep(path, op, where if result.exact else "python"))
        return result

    def _document(
        self, node: Any, path: str, op: str, leaf: Callable[[Table, type, Any], Condition]
    ) -> _Translated:
        """A leaf answered on the stored document (``_json_leaf``)."""
        condition = leaf(self.table, self.model, node)
        return self._step(path, op, _Translated(condition, True), "document")

    def _indexed(self, path: str) -> IndexedPath | None:
        return None if self.indexes is None else self.indexes.get(path)

    def filter(self, node: AnyFilter) -> _Translated:
        if isinstance(node, Compare):
            key = _key(self.table, self.model, node.path)
            if key is not None:
                result = self._compare(node) if self._budget(1) else _NOTHING
                return self._step(node.path, str(node.op), result, "column")
            indexed = self._indexed(node.path)
            if indexed is not None and self._budget(3):
                return self._step(
                    node.path, str(node.op), self._index_compare(indexed, node), "index"
                )
            if not self._budget(3):
                return self._step(node.path, str(node.op), _NOTHING, "python")
            return self._document(node, node.path, str(node.op), document_compare)
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, IsNull):
            return self._is_null(node)
        if isinstance(node, Search):
            needles = search_needles(node.text, node.also_digits)
            result = self._search(needles) if self._budget(len(needles)) else _NOTHING
            self.steps.append(
                PlanStep(
                    "*search*", "search", "search" if result.condition is not None else "python"
                )
            )
            return result
        if isinstance(node, And):
            parts = [self.filter(f) for f in node.filters]
            conditions = [p.condition for p in parts if p.condition is not None]
            exact = all(p.exact for p in parts)
            left = [p.residual for p in parts]
            searches = None if None in left else tuple(g for r in left if r for g in r)
            if not conditions:
                return _Translated(true() if exact else None, exact, searches)
            return _Translated(and_(*conditions), exact, searches)
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
        if isinstance(node, MonthDay):
            return self._month_day(node)
        if isinstance(node, Reachable):
            return self._reachable(node)
        if isinstance(node, Not):
            inner = self.filter(node.filter)
            if inner.exact and inner.condition is not None:
                return _Translated(not_(inner.condition), True)
            return _NOTHING
        return _NOTHING  # pragma: no cover - compile() rejected anything else

    def _in(self, node: In) -> _Translated:
        key = _key(self.table, self.model, node.path)
        leaf = resolve_path(self.model, node.path).leaf
        if key is not None:
            if not self._budget(len(node.values)):
                return self._step(node.path, "in", _NOTHING, "python")
            values = [_column_form(coerce_value(leaf, v)) for v in node.values]
            return self._step(
                node.path, "in", _Translated(_guard(key, key.column.in_(values)), True), "column"
            )
        indexed = self._indexed(node.path)
        if indexed is None:
            if not self._budget(len(node.values) * 3 + 1):
                return self._step(node.path, "in", _NOTHING, "python")
            return self._document(node, node.path, "in", document_in)
        if not self._budget(len(node.values) * 2 + 1):
            return self._step(node.path, "in", _NOTHING, "python")
        operands = list(dict.fromkeys(index_form(coerce_value(leaf, v)) for v in node.values))
        if not operands:
            return self._step(node.path, "in", _Translated(false(), True), "index")

        def test(entry: Any) -> Condition:
            if indexed.numeric:
                return cast(Condition, entry.c.number_value.in_([_clamp(int(v)) for v in operands]))
            short = [v for v in operands if len(str(v)) < INDEX_TEXT_LENGTH]
            tests = [entry.c.text_value.in_(short)] if short else []
            tests += [
                _text_condition(entry, Op.EQ, str(v))
                for v in operands
                if len(str(v)) >= INDEX_TEXT_LENGTH
            ]
            return or_(*tests)

        condition = _entry_exists(self.table, indexed.path, test)
        return self._step(node.path, "in", _Translated(condition, True), "index")

    def _is_null(self, node: IsNull) -> _Translated:
        key = _key(self.table, self.model, node.path)
        if key is not None:
            result = _Translated(key.column.is_(None) if key.nullable else false(), True)
            return self._step(node.path, "is_null", result, "column")
        witness = self._witness(node.path)
        if witness is None:
            if not self._budget(1):
                return self._step(node.path, "is_null", _NOTHING, "python")
            return self._document(node, node.path, "is_null", document_is_null)
        if not self._budget(1):
            return self._step(node.path, "is_null", _NOTHING, "python")
        condition = not_(_entry_exists(self.table, witness, None))
        return self._step(node.path, "is_null", _Translated(condition, True), "index")

    def _witness(self, path: str) -> str | None:
        """An indexed path with an entry exactly when ``path`` has a non-``None`` value.

        ``path`` itself when indexed; else an indexed path below it reached through
        fields that are neither tuples nor optional (``phones`` has a value exactly when
        ``phones.number`` has one).
        """
        if self.indexes is None:
            return None
        if self.indexes.get(path) is not None:
            return path
        depth = len(resolve_path(self.model, path).steps)
        for indexed in self.indexes.paths:
            below = indexed.resolved.steps[depth:]
            if (
                indexed.path.startswith(path + ".")
                and below
                and not any(step.many or step.optional for step in below)
            ):
                return indexed.path
        return None

    def _index_compare(self, indexed: IndexedPath, node: Compare) -> _Translated:
        leaf = indexed.resolved.leaf
        is_enum = isinstance(leaf, type) and issubclass(leaf, enum.Enum)
        if node.op is Op.STARTS_WITH or (is_enum and node.op not in (Op.EQ, Op.NE, Op.CONTAINS)):
            operand: str | int = str(node.value)
        else:
            operand = index_form(coerce_value(leaf, node.value))
        op = node.op

        def test(entry: Any) -> Condition:
            if isinstance(operand, int):
                return _TEXT_OPS[op](entry.c.number_value, _clamp(operand))
            return _text_condition(entry, op, operand)

        return _Translated(_entry_exists(self.table, indexed.path, test), True)

    def _month_day(self, node: MonthDay) -> _Translated:
        """A window of ``<path>#month_day`` entries; wrapping the year end is an ``OR``."""
        indexed = self._indexed(node.path)
        if not self._budget(3):
            return self._step(node.path, "month_day", _NOTHING, "python")
        start, end = node.start, node.end
        if self.model is not Customer or indexed is None:
            return self._document(node, node.path, "month_day", document_month_day)

        def test(entry: Any) -> Condition:
            value = entry.c.text_value
            if start <= end:
                return and_(value >= start, value <= end)
            return or_(value >= start, value <= end)

        name = indexed.path + MONTH_DAY_SUFFIX
        condition: Condition
        if start <= end:
            condition = _entry_exists(self.table, name, test)
        else:  # two index ranges: see _window
            entry = _ENTRY
            ranges = [entry.c.text_value >= start, entry.c.text_value <= end]
            upper, lower = (
                select(entry.c.customer_id).where(entry.c.path == name, r) for r in ranges
            )
            either = select(entry.c.customer_id).where(entry.c.path == name, test(entry))
            condition = WrappedWindow(self.table.c.id, either, upper, lower)
        return self._step(node.path, "month_day", _Translated(condition, True), "index")

    def _reachable(self, node: Reachable) -> _Translated:
        """The customer's ``@reachable`` entries hold the channel's (and purpose's) key."""
        if self.model is not Customer or not self._budget(2):
            return self._step(REACHABLE_PATH, "reachable", _NOTHING, "python")
        if node.purpose is None:  # only consent keys are indexed (see indexing)
            return self._document(node, REACHABLE_PATH, "reachable", document_reachable)
        if self.indexes is None:
            raise query_problem("query.not_in_sql", "$.where", "no index table for audiences")
        key = audience_key(node.channel, node.purpose)

        def test(entry: Any) -> Condition:
            return _text_condition(entry, Op.EQ, key)

        return self._step(
            REACHABLE_PATH,
            "reachable",
            _Translated(_entry_exists(self.table, REACHABLE_PATH, test), True),
            "index",
        )

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
        group = tuple(needles)
        searches = (group,) if decidable(group) else None
        if not tests:
            return _Translated(false(), False, searches)
        # Rows written before the search columns existed hold NULL: always candidates.
        unfilled = [self.table.c[field.column].is_(None) for field in SEARCH_FIELDS]
        return _Translated(or_(*unfilled, *tests), False, searches)


@attrs.frozen
class SqlPlan:
    """How a compiled query runs on one table.

    Attributes:
        where: The SQL pre-filter (``None``: every row is a candidate).
        exact: The pre-filter is exactly the query's filter (no Python check needed).
        segments: The parts of the ordered result, read one after the other, each in
            its own ``ORDER BY`` by keyset (see :mod:`._order`), when every ordering
            path is a key column or a single-valued indexed path; ``None`` when the
            ordering must be done in Python.
        searches: When not :attr:`exact`, the text searches that are the only check
            left, each decided on the row's search columns
            (:func:`._search.column_verdict`) before the record is decoded; ``None``
            when the reference predicate must check each candidate.
    """

    where: Condition | None
    exact: bool
    segments: tuple[Segment, ...] | None
    searches: tuple[NeedleGroup, ...] | None = None

    @property
    def order(self) -> tuple[OrderKey, ...] | None:
        """The ordering keys of the first segment (``None``: ordered in Python)."""
        return None if self.segments is None else self.segments[0].order


def _translate(
    compiled: CompiledQuery, table: Table, indexes: IndexSet | None
) -> tuple[_Translated, list[PlanStep]]:
    if compiled.query.where is None:
        return _Translated(None, True), []
    translator = _Translator(table, compiled.model, indexes)
    return translator.filter(compiled.query.where), translator.steps


def _order_keys(
    compiled: CompiledQuery, table: Table, indexes: IndexSet | None
) -> tuple[list[Sort], list[PlanStep]]:
    """The orderings SQL can sort by, and a step per ordering."""
    sorts: list[Sort] = []
    steps: list[PlanStep] = []
    for order in compiled.query.order_by:
        key = _key(table, compiled.model, order.path)
        indexed = None if indexes is None else indexes.get(order.path)
        if key is not None:
            sorts.append(Sort(order.descending, key.column, key.nullable, None, _column_form))
            steps.append(PlanStep(order.path, "order", "column"))
        elif indexed is not None and not indexed.resolved.many:
            sorts.append(Sort(order.descending, None, True, indexed, index_form))
            steps.append(PlanStep(order.path, "order", "index"))
        else:
            steps.append(PlanStep(order.path, "order", "python"))
    return sorts, steps


def plan(
    compiled: CompiledQuery,
    table: Table,
    indexes: IndexSet | None = None,
    *,
    shapes: MutableMapping[tuple[Any, ...], tuple[Segment, ...]] | None = None,
) -> SqlPlan:
    """Plan ``compiled`` (checked against its model) on ``table``.

    ``indexes`` is the backend's index set when ``table`` is the customer table: paths
    in it are answered from the index table. ``shapes`` keeps first pages' segments by
    ordering (:func:`._order.first_segments`; the plan cache's); ``None``: built anew.
    """
    translated, _ = _translate(compiled, table, indexes)
    where = translated.condition
    sorts, steps = _order_keys(compiled, table, indexes)
    searches = translated.residual
    if len(sorts) < len(steps):
        return SqlPlan(where=where, exact=translated.exact, segments=None, searches=searches)
    cursor = None
    if compiled.cursor is not None:
        forms = [*(s.form for s in sorts), _column_form]
        cursor = tuple(
            None if v is None else form(v) for form, v in zip(forms, compiled.cursor, strict=True)
        )
    kind = _implied_kind(compiled.query.where)
    if cursor is None:
        shape = (compiled.model, tuple((o.path, o.descending) for o in compiled.query.order_by))
        ordered = first_segments(table, sorts, kind, shape=shape, kept=shapes)
    else:
        ordered = segments(table, sorts, cursor, kind)
    return SqlPlan(where=where, exact=translated.exact, segments=ordered, searches=searches)


_KINDS = frozenset(kind.value for kind in CustomerKind)


def _implied_kind(where: AnyFilter | None) -> str | None:
    """The customer kind every record matching ``where`` has (``None``: not implied).

    ``kind == K`` itself, or an ``And`` with such a part; other filters imply nothing.
    """
    if isinstance(where, Compare) and where.path == "kind" and where.op is Op.EQ:
        value = str(where.value)
        return value if value in _KINDS else None
    if isinstance(where, And):
        for part in where.filters:
            found = _implied_kind(part)
            if found is not None:
                return found
    return None


def explain(compiled: CompiledQuery, table: Table, indexes: IndexSet | None = None) -> Explanation:
    """Where each filter leaf and ordering of ``compiled`` runs on ``table`` (see :func:`plan`)."""
    translated, filters = _translate(compiled, table, indexes)
    sorts, orders = _order_keys(compiled, table, indexes)
    return Explanation(
        exact=translated.exact,
        ordered_in_sql=len(sorts) == len(orders),
        filters=tuple(filters),
        orders=tuple(orders),
    )

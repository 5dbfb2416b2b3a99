"""Ordering a query in SQL: ``ORDER BY`` clauses, keyset conditions and segments.

The reference order (:meth:`crmcore.query.Query.apply`) puts ``None`` first ascending
and last descending, breaks ties by ``id`` and compares text by code point. An ordering
whose first key can be ``None`` (a nullable key column, or a single-valued path of the
index table, absent for customers without a value) is read as two **segments**, each
walked in index order by keyset:

* the rows *with* a value, ordered by it: for an indexed path an inner join on its
  ``crm_customer_index`` entries, ordered by ``(text_value, customer_id)`` (or
  ``number_value``), which is the ``(path, text_value, customer_id)`` index itself, so a
  first or a deep page reads only its own rows;
* the rows *without* one, ordered by the remaining keys: ``IS NULL`` for a column; for
  an indexed path its absence markers (``<path>#absent`` entries whose text is the
  customer's kind, :data:`~crmcore.storage.indexing.ABSENT_SUFFIX`, written with the
  customer): when the filter implies one kind, an inner join on that kind's markers
  ordered by ``customer_id``, the same index again, so finding that there are none is
  one probe; otherwise each customer in id order probed for its marker;

absent rows first ascending, last descending. ``text_value`` holds a text's first 255
characters, so texts sharing them tie there: when the walk meets a ``text_value`` of
255 characters, that run is read by a query of its own ordered by
``COALESCE(text_full, '')`` (the text that *is* those characters has no ``text_full``
and sorts first, the longer ones by their whole text), then the walk goes on after the
run (:func:`walk`). Orderings after the first by an indexed path sort by the entry
through a correlated subquery (``NULL`` when absent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from functools import partial
from typing import Any, cast

import attrs
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement as _Column
from sqlalchemy.sql.selectable import FromClause, Join

from crmcore._fastpaths import fast_paths_enabled
from crmcore.storage.indexing import ABSENT_SUFFIX, IndexedPath
from crmcore.storage.sqlalchemy._schema import INDEX, INDEX_TEXT_LENGTH

__all__ = [
    "FIRST_SEGMENTS_MAX",
    "OrderKey",
    "Segment",
    "Sort",
    "after",
    "first_segments",
    "order_by",
    "segment_select",
    "segments",
    "walk",
]

Condition = ColumnElement[bool]


@attrs.frozen
class OrderKey:
    """One ``ORDER BY`` key: a column, its direction, and whether it can be ``NULL``."""

    column: _Column[Any]
    descending: bool
    nullable: bool


@attrs.frozen
class Sort:
    """One ordering of a query, resolved: a key column, or a single-valued indexed path.

    Attributes:
        descending: The ordering's direction.
        column: The key column, or ``None`` for an indexed path.
        nullable: The key column can be ``NULL`` (always true for an indexed path).
        indexed: The indexed path, or ``None`` for a key column.
        form: The cursor value's form: the key column's, or the index form.
    """

    descending: bool
    column: _Column[Any] | None
    nullable: bool
    indexed: IndexedPath | None
    form: Callable[[Any], Any]


def order_by(keys: Sequence[OrderKey]) -> list[Any]:
    """The ``ORDER BY`` clauses of ``keys`` (``None`` first ascending, last descending)."""
    clauses: list[Any] = []
    for key in keys:
        if key.nullable:
            # None first ascending, last descending, on every dialect.
            is_set = case((key.column.is_(None), 0), else_=1)
            clauses.append(is_set.desc() if key.descending else is_set.asc())
        clauses.append(key.column.desc() if key.descending else key.column.asc())
    return clauses


def after(keys: Sequence[OrderKey], values: Sequence[Any]) -> Condition:
    """Rows sorting strictly after ``values`` (column form, id last) in ``keys``' order.

    When the first key cannot be ``NULL`` the expansion is prefixed with the range it
    implies (``first >= value``), so the planner reads an index range.
    """
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
    condition = or_(*alternatives)
    first, value = keys[0], values[0]
    if first.nullable or value is None or len(keys) == 1:
        return condition
    bound = first.column <= value if first.descending else first.column >= value
    return and_(bound, condition)


# One alias object each (building an alias's columns costs more than a selective query).
_SORTED = INDEX.alias("sorted_entry")
_SORT_ENTRY = INDEX.alias("sort_entry")
_ABSENT_ENTRY = INDEX.alias("absent_entry")


def entry_sort(table: Table, indexed: IndexedPath) -> _Column[Any]:
    """The sort value of a single-valued indexed path: its entry at position 0, or NULL."""
    entry = _SORTED
    value = (
        entry.c.number_value
        if indexed.numeric
        else func.coalesce(entry.c.text_full, entry.c.text_value)
    )
    return cast(
        _Column[Any],
        select(value)
        .where(
            entry.c.customer_id == table.c.id,
            entry.c.path == indexed.path,
            entry.c.position == 0,
        )
        .scalar_subquery(),
    )


@attrs.frozen
class Segment:
    """Part of an ordered result, read in its own order by keyset (:func:`walk`).

    Attributes:
        source: The ``FROM`` (the table, or the table joined with an index entry).
        condition: What a row of this segment meets besides the filter (``None``: nothing).
        order: The ordering keys, the row's id last.
        start: The keyset values to start after (column form), or ``None``.
        ties: For a segment ordered by a text entry: the keys that order the entries
            sharing one full-length ``text_value`` (``tie``, the later keys, the id), read
            by a query of their own; ``None`` otherwise.
        tie_start: With ``ties``, the cursor inside such a group: its ``text_value`` and
            the values of ``ties`` to start after.
    """

    source: FromClause
    condition: Condition | None
    order: tuple[OrderKey, ...]
    start: tuple[Any, ...] | None
    ties: tuple[OrderKey, ...] | None = None
    tie_start: tuple[str, tuple[Any, ...]] | None = None
    _statements: dict[tuple[Any, ...], Select[Any]] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )
    """The statements :func:`walk` built for this segment, by ``extra`` (:func:`segment_select`)."""

    def order_by(self) -> list[Any]:
        """The ``ORDER BY`` clauses."""
        return order_by(self.order)

    def after(self, values: Sequence[Any]) -> Condition:
        """The keyset condition for rows after ``values`` (column form, id last)."""
        return after(self.order, values)


Execute = Callable[[Select[Any]], Sequence[Sequence[Any]]]
"""Runs a statement, returns its rows (Core rows, or the driver's tuples: ``_plan_cache``)."""


def segment_select(
    segment: Segment,
    keys: Sequence[OrderKey],
    extra: Sequence[_Column[Any]],
    *conditions: Condition | None,
) -> Select[Any]:
    """The ``SELECT`` of ``segment``'s ``keys`` and ``extra`` meeting ``conditions``, ordered.

    The filter is not in it: :func:`walk` adds it (``.where``), so the statement of a
    segment reused from one query to the next (a first page: see
    :func:`crmcore.storage.sqlalchemy._query.plan`) is built once per ``extra`` and
    kept on the segment; building it costs about as much as running a first page on
    SQLite.
    """
    statement = select(*(k.column for k in keys), *extra).select_from(segment.source)
    if isinstance(segment.source, Join):
        # MariaDB would read every customer and sort; the join order it is given walks
        # the index (the other dialects choose this plan themselves).
        for dialect in ("mysql", "mariadb"):
            statement = statement.prefix_with("STRAIGHT_JOIN", dialect=dialect)
    for condition in (segment.condition, *conditions):
        if condition is not None:
            statement = statement.where(condition)
    return statement.order_by(*order_by(keys))


def _main(segment: Segment, where: Condition | None, extra: Sequence[_Column[Any]]) -> Select[Any]:
    """The statement walking ``segment``: :func:`segment_select`, filtered by ``where``.

    No keyset bound, no limit. Kept on the segment by ``extra`` (fast path; the
    reference builds it anew).
    """
    if not fast_paths_enabled():
        built = segment_select(segment, segment.order, extra)
    else:
        key = tuple(extra)
        found = segment._statements.get(key)
        if found is None:
            found = segment._statements[key] = segment_select(segment, segment.order, extra)
        built = found
    return built if where is None else built.where(where)


def _given(statement: Select[Any]) -> Select[Any]:
    return statement


def walk(
    segment: Segment,
    where: Condition | None,
    extra: Sequence[_Column[Any]],
    execute: Execute,
    chunk: int,
    memo: dict[int, Select[Any]] | None = None,
) -> Iterator[Sequence[Any]]:
    """The rows of ``segment`` matching ``where``, in order, ``chunk`` at a time.

    Each row holds the segment's key columns (those of :attr:`Segment.ties` inside a
    run of long texts, as many), then ``extra``. ``memo`` (a remembered plan's, see
    ``_plan_cache``; fast path) keeps the first statement, by ``chunk``, for the same
    segment, ``where`` and ``extra`` next time.
    """

    def statement(keys: Sequence[OrderKey], *conditions: Condition | None) -> Select[Any]:
        built = segment_select(segment, keys, extra, *conditions)
        return built if where is None else built.where(where)

    def keyset(
        keys: Sequence[OrderKey],
        base: Callable[[], Select[Any]],
        last: Sequence[Any] | None,
        kept: dict[int, Select[Any]] | None = None,
    ) -> Any:
        while True:
            limited = None if kept is None else kept.get(chunk)
            if limited is None:
                query = base() if last is None else base().where(after(keys, last))
                limited = query.limit(chunk)
                if kept is not None:
                    kept[chunk] = limited
            kept = None  # only the first statement is kept
            rows = execute(limited)
            yield from rows
            if len(rows) < chunk:
                return
            last = tuple(rows[-1][: len(keys)])

    built: list[Select[Any]] = []

    def main() -> Select[Any]:  # built when needed: not when ``memo`` has the statement
        if not built:
            built.append(_main(segment, where, extra))
        return built[0]

    def main_where(condition: Condition) -> Select[Any]:
        return main().where(condition)

    first = segment.order[0].column
    last = segment.start
    group = segment.tie_start
    while True:
        if group is not None and segment.ties is not None:
            text, tie_last = group
            same = statement(segment.ties, first == text)
            yield from keyset(segment.ties, partial(_given, same), tie_last or None)
            beyond = first < text if segment.order[0].descending else first > text
            rows_after: Any = keyset(segment.order, partial(main_where, beyond), None)
        else:
            rows_after = keyset(segment.order, main, last, memo)
        memo = None
        group = None
        for row in rows_after:
            if segment.ties is not None and len(row[0]) >= INDEX_TEXT_LENGTH:
                group = (row[0], ())  # texts sharing these characters: read in full order
                break
            yield row
        if group is None:
            return


def _later(table: Table, sort: Sort) -> OrderKey:
    """The key of an ordering after the first."""
    if sort.column is not None:
        return OrderKey(sort.column, sort.descending, sort.nullable)
    assert sort.indexed is not None
    return OrderKey(entry_sort(table, sort.indexed), sort.descending, True)


def _tie(value: str) -> str:
    """The ``COALESCE(text_full, '')`` of a text entry whose whole value is ``value``."""
    return value if len(value) > INDEX_TEXT_LENGTH else ""


def segments(
    table: Table, sorts: Sequence[Sort], cursor: Sequence[Any] | None, kind: str | None = None
) -> tuple[Segment, ...]:
    """The segments of an ordering by ``sorts`` (then id), after ``cursor`` if given.

    ``cursor`` holds the cursor's values in their :attr:`Sort.form`, the id last.
    ``kind`` is the customer kind every match of the filter has (``None``: unknown):
    the absent segment of an indexed path then walks that kind's absence markers.
    """
    identifier = table.c.id
    if not sorts or not sorts[0].nullable:
        keys = (*(_later(table, s) for s in sorts), OrderKey(identifier, False, False))
        return (Segment(table, None, keys, None if cursor is None else tuple(cursor)),)
    first, rest = sorts[0], sorts[1:]
    ties: tuple[OrderKey, ...] | None = None
    value_keys: tuple[OrderKey, ...]
    last_id: _Column[Any]
    rest_keys = tuple(_later(table, s) for s in rest)
    rest_start = None if cursor is None else tuple(cursor[1:])
    descending = first.descending
    absent_source: FromClause = table
    absent_id: _Column[Any] = identifier
    absent_condition: Condition | None
    if first.column is not None:
        column = first.column
        present_source: FromClause = table
        present_condition: Condition | None = column.is_not(None)
        absent_condition = column.is_(None)
        value_keys = (OrderKey(column, descending, False),)
        last_id = identifier
    else:
        indexed = first.indexed
        assert indexed is not None
        entry = _SORT_ENTRY
        stored = entry.c.number_value if indexed.numeric else entry.c.text_value
        # ``stored IS NOT NULL`` (true of every entry of the path) lets the partial index serve.
        # The entries first: MariaDB joins in this order (STRAIGHT_JOIN, see walk).
        present_source = entry.join(
            table,
            and_(
                entry.c.path == indexed.path,
                stored.is_not(None),
                entry.c.customer_id == identifier,
            ),
        )
        present_condition = None
        # The absence markers (``<path>#absent``, text: the customer's kind; none on
        # the kind without the path's profile, which lacks it by its kind alone).
        marker = _ABSENT_ENTRY
        absent_path = indexed.path + ABSENT_SUFFIX
        scope = indexed.profile_kind
        if kind is not None and scope not in (None, kind):
            # Every match is of the other kind: none has the path.
            present_condition = false()
            absent_condition = None
        elif kind is not None:
            # The filter implies one kind: its customers without a value are one range of
            # the ``(path, text_value, customer_id)`` index, walked in id order.
            absent_source = marker.join(
                table,
                and_(
                    marker.c.path == absent_path,
                    marker.c.text_value == kind,
                    marker.c.customer_id == identifier,
                ),
            )
            absent_id = marker.c.customer_id
            absent_condition = None
        else:
            # Either kind: the customers in id order, each probed for its marker (a
            # primary-key lookup), quick while customers without a value are common.
            absent_condition = (
                select(marker.c.customer_id)
                .where(
                    marker.c.customer_id == identifier,
                    marker.c.path == absent_path,
                    marker.c.position == 0,
                )
                .exists()
            )
            if scope is not None:
                absent_condition = or_(table.c.kind != scope, absent_condition)
        value_keys = (OrderKey(stored, descending, False),)
        last_id = entry.c.customer_id
        if not indexed.numeric:
            tie = OrderKey(func.coalesce(entry.c.text_full, literal("")), descending, False)
            ties = (tie, *rest_keys, OrderKey(last_id, False, False))
    present_keys = (*value_keys, *rest_keys, OrderKey(last_id, False, False))
    absent_keys = (*rest_keys, OrderKey(absent_id, False, False))

    def present(
        start: tuple[Any, ...] | None, tie_start: tuple[str, tuple[Any, ...]] | None = None
    ) -> Segment:
        return Segment(present_source, present_condition, present_keys, start, ties, tie_start)

    def absent(start: tuple[Any, ...] | None) -> Segment:
        return Segment(absent_source, absent_condition, absent_keys, start)

    if cursor is None:
        return (present(None), absent(None)) if descending else (absent(None), present(None))
    if cursor[0] is None:
        return (absent(rest_start),) if descending else (absent(rest_start), present(None))
    value = cursor[0]
    assert rest_start is not None
    if ties is not None and len(value) >= INDEX_TEXT_LENGTH:
        # Inside the entries sharing these characters: start after the cursor there.
        inside = (value[:INDEX_TEXT_LENGTH], (_tie(value), *rest_start))
        return (present(None, inside), absent(None)) if descending else (present(None, inside),)
    start = (value, *rest_start)
    return (present(start), absent(None)) if descending else (present(start),)


FIRST_SEGMENTS_MAX = 256
"""At most this many orderings' first-page segments are kept in one store (then it is emptied)."""


def first_segments(
    table: Table,
    sorts: Sequence[Sort],
    kind: str | None,
    *,
    shape: tuple[Any, ...],
    kept: MutableMapping[tuple[Any, ...], tuple[Segment, ...]] | None = None,
) -> tuple[Segment, ...]:
    """:func:`segments` of a first page, reused by every query ordered the same way.

    A first page's segments depend only on the table, the orderings (``shape``: the
    model and each ordering's path and direction; each sort's key column or indexed
    path) and the implied kind, not on the filter's values; reusing them also reuses
    the statements :func:`walk` keeps on them, whose building otherwise costs about as
    much as running the page. ``kept`` is where they are kept: the backend's
    :class:`~._plan_cache.PlanCache` (its ``shapes``), the one cache of first
    statements, beside each query's own. Fast path: without ``kept``, or with
    ``CRMCORE_NO_FAST_PATHS=1``, they are built anew (the reference).
    """
    if kept is None or not fast_paths_enabled():
        return segments(table, sorts, None, kind)
    key = (table, shape, tuple(s.indexed for s in sorts), kind)
    found = kept.get(key)
    if found is None:
        if len(kept) >= FIRST_SEGMENTS_MAX:
            kept.clear()
        found = kept[key] = segments(table, sorts, None, kind)
    return found

"""Remembered query plans: a query asked again runs the statements built the first time.

Answering a short query (an indexed equality, a first page) on SQLite costs less than
building its statements: checking it against the model (``Query.compile``), translating
its filter (``_query.plan``, ``_count.count_statement``) and, for each new Core statement
object, SQLAlchemy's cache key (which it keeps on the object, so a statement executed
again skips it). :class:`PlanCache`, one per :class:`~._backend.SqlBackend`, keeps for each
query asked (kind and query, see :func:`plan_key`) what the backend built for it:

* the compiled query (its predicate, for the records SQL does not decide),
* its :class:`~._query.SqlPlan` (pages) and count statement (``count``),
* the first statement each segment of a page runs (filter, keyset start and limit in
  it: :func:`._order.walk`'s ``memo``),
* what SQLAlchemy sent the driver for each of those statements the first time it ran
  (:class:`DriverStatement`: the SQL text and the parameters), so that from then on
  :meth:`Entry.rows` runs them on the driver's cursor, skipping Core's execution (the
  compiled-cache lookup, parameter processing, the execution context and result),

for the index set they were made for (:attr:`Entry.indexes`; another index set, read
after a path was declared, makes a new entry). Statements are immutable and hold their
values as bound parameters, so a remembered statement is the one the same query would
build again: the same SQL, the same parameters (``tests/integration/test_plan_cache.py``).

The key is the compiled-query cache's (:func:`crmcore.query.evaluate.query_key`): every
node and operand with its type, since queries equal as values can need different SQL
(``1 == True`` in Python). Queries that cache does not keep (estimated larger than
:data:`~crmcore.query.evaluate.UNCACHED_BYTES`) are not kept here either, nor more than
:data:`MAX_ENTRIES` (the oldest is dropped first).

The cache also holds the first pages' segments by ordering (:attr:`PlanCache.shapes`,
``_order.first_segments``), which every query ordered the same way shares whatever its
filter: the two levels of first statements (a segment's, without the filter; a
query's, with it) live in this one cache, cleared together.

This is a fast path: the reference builds everything anew for each call and runs it
through Core, which is what happens with ``CRMCORE_NO_FAST_PATHS=1``
(:meth:`PlanCache.entry` keeps nothing).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs
from sqlalchemy import CursorResult, Select, Table
from sqlalchemy.engine import Connection

from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.query import CompiledQuery, Query
from crmcore.query.evaluate import UNCACHED_BYTES, query_key
from crmcore.storage.ports import RECORD_TYPES, RecordKind
from crmcore.storage.sqlalchemy import _count, _query

if TYPE_CHECKING:
    from crmcore.storage.indexing import IndexSet
    from crmcore.storage.sqlalchemy._order import Segment
    from crmcore.storage.sqlalchemy._query import SqlPlan

__all__ = ["MAX_ENTRIES", "DriverStatement", "Entry", "PlanCache", "driver_form", "plan_key"]

MAX_ENTRIES = 512
"""At most this many queries are remembered per backend (the oldest is dropped first)."""

_UNSET: Any = object()


@attrs.frozen
class DriverStatement:
    """A remembered statement as SQLAlchemy handed it to the driver the first time it ran.

    Attributes:
        sql: The SQL text (placeholders in the driver's style, ``IN`` lists expanded).
        parameters: The driver's parameters (a tuple or a dict), bind processors applied.
    """

    sql: str
    parameters: Any


def driver_form(result: CursorResult[Any]) -> DriverStatement | None:
    """What ``result``'s statement ran as on the driver, when its rows need no conversion.

    ``None`` (run it through Core each time) when Core would convert a column of its
    rows (a result processor: a boolean on SQLite, ...), filter them, or ran more than
    one parameter set.
    """
    try:
        context: Any = result.context
        metadata: Any = result._metadata
        if context.executemany or len(context.parameters) != 1:
            return None
        if metadata._tuplefilter is not None or any(p is not None for p in metadata._processors):
            return None
        parameters = context.parameters[0]
        frozen = dict(parameters) if isinstance(parameters, dict) else tuple(parameters)
        return DriverStatement(str(context.statement), frozen)
    except (AttributeError, TypeError):  # pragma: no cover - another SQLAlchemy's internals
        return None


_WATCHING = ("before_execute", "after_execute", "before_cursor_execute", "after_cursor_execute")
"""The engine and connection events that see a statement run (Core's execution events)."""


def _observed(conn: Connection) -> bool:
    """Someone watches statements run on ``conn`` (events, echo): Core must run them.

    SQLAlchemy's ``_has_events`` flags stay set once a listener was added, even after it
    is removed: the listener lists say whether one is there now.
    """
    if conn._echo:
        return True
    if conn._has_events or conn.engine._has_events:
        dispatch: Any = conn.dispatch
        if any(getattr(dispatch, name) for name in _WATCHING):
            return True
    dialect: Any = conn.dialect
    return bool(dialect._has_events and dialect.dispatch.do_execute)


@attrs.define(eq=False)
class Entry:
    """What one backend built for one query and one index set, each part when first asked.

    Attributes:
        compiled: The query checked against its model.
        indexes: The index set the statements are made for.
        kept: The entry is remembered (fast paths on and the query small enough): its
            statements run through the driver from their second run (:meth:`rows`).
        shapes: The cache's first-page segments by ordering (``_order.first_segments``),
            or ``None`` (fast paths off: built anew).
        first: The first statement of each segment's walk: by the segment's position,
            then by chunk size (``_order.walk``'s ``memo``).
    """

    compiled: CompiledQuery
    indexes: IndexSet | None
    kept: bool = False
    shapes: dict[tuple[Any, ...], tuple[Segment, ...]] | None = None
    first: dict[int, dict[int, Select[Any]]] = attrs.Factory(dict)
    _plan: SqlPlan | None = None
    _count: Select[Any] | None = _UNSET
    _driven: dict[int, tuple[Select[Any], DriverStatement | None]] = attrs.Factory(dict)

    def plan(self, table: Table) -> SqlPlan:
        """The page plan (``_query.plan``)."""
        if self._plan is None:
            self._plan = _query.plan(self.compiled, table, self.indexes, shapes=self.shapes)
        return self._plan

    def count_statement(self, table: Table) -> Select[Any] | None:
        """The count statement (``_count.count_statement``; ``None``: counted in Python)."""
        if self._count is _UNSET:
            self._count = _count.count_statement(self.compiled, table, self.indexes)
        return self._count

    def _remembered(self, statement: Select[Any]) -> bool:
        return statement is self._count or any(
            statement is kept for chunks in self.first.values() for kept in chunks.values()
        )

    def rows(self, conn: Connection, statement: Select[Any]) -> Sequence[Sequence[Any]]:
        """The rows of ``statement`` run on ``conn`` (inside :func:`._driver_errors.translated`).

        A statement this entry remembers (its count statement, a first statement in
        :attr:`first`) runs through Core the first time, which gives its SQL text and
        driver parameters (:func:`driver_form`), and from then on straight on the
        driver's cursor with them: no compiled-cache lookup, parameter processing,
        execution context or result object. Fast path: the reference, Core's
        ``conn.execute(statement).all()``, runs every other statement, every statement
        of an entry not kept (``CRMCORE_NO_FAST_PATHS=1``), and every statement while
        engine events or echo watch the connection.
        """
        if self.kept and not _observed(conn):
            found = self._driven.get(id(statement))
            if found is not None and found[0] is statement:
                driven = found[1]
                if driven is not None:
                    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                    try:
                        cursor.execute(driven.sql, driven.parameters)
                        return cast(Sequence[Sequence[Any]], cursor.fetchall())
                    finally:
                        cursor.close()
            elif self._remembered(statement):
                result = conn.execute(statement)
                self._driven[id(statement)] = (statement, driver_form(result))
                return result.all()
        return conn.execute(statement).all()


def plan_key(kind: str, query: Query) -> tuple[str, tuple[object, ...]] | None:
    """The cache key of ``query`` on ``kind`` (``None``: too large to keep)."""
    flat, size = query_key(query)
    return None if size > UNCACHED_BYTES else (kind, flat)


class PlanCache:
    """The remembered plans of one backend (thread-safe; see the module)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, tuple[object, ...]], Entry] = {}
        self._asked: dict[tuple[str, int], tuple[Query, Entry]] = {}
        """Entries by the query object last asked for them (held, so its id stays its own):
        asking with the same object again skips computing its key."""
        self.shapes: dict[tuple[Any, ...], tuple[Segment, ...]] = {}
        """First pages' segments by ordering, shared by every query (``_order.first_segments``)."""
        self._lock = threading.Lock()
        _CACHES.add(self)

    def entry(self, kind: RecordKind, query: Query, indexes: IndexSet | None) -> Entry:
        """The entry of ``query`` for ``indexes``, made (compiled) if new.

        The very query object asked before finds its entry without computing its key
        (queries are immutable). When fast paths are off or the query is too large to
        keep, a new entry that is not kept (the reference: everything built anew for
        this call).
        """
        fast = fast_paths_enabled()
        if fast:
            asked = self._asked.get((kind, id(query)))
            if asked is not None and asked[0] is query and asked[1].indexes is indexes:
                return asked[1]
        key = plan_key(kind, query) if fast else None
        if key is not None:
            found = self._entries.get(key)
            if found is not None and found.indexes is indexes:
                self._remember_asked(kind, query, found)
                return found
        made = Entry(
            query.compile(RECORD_TYPES[kind]),
            indexes,
            kept=key is not None,
            shapes=self.shapes if fast else None,
        )
        if key is not None:
            with self._lock:
                self._entries.pop(key, None)
                while len(self._entries) >= MAX_ENTRIES:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = made
            self._remember_asked(kind, query, made)
        return made

    def _remember_asked(self, kind: str, query: Query, entry: Entry) -> None:
        """Find ``entry`` by the very ``query`` object next time, without its key."""
        if len(self._asked) >= MAX_ENTRIES:
            self._asked.clear()
        self._asked[(kind, id(query))] = (query, entry)

    def clear(self) -> None:
        """Forget every plan."""
        with self._lock:
            self._entries.clear()
            self._asked.clear()
            self.shapes.clear()

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: weakref.WeakSet[PlanCache] = weakref.WeakSet()


@on_switch
def _clear_all() -> None:
    for cache in list(_CACHES):
        cache.clear()

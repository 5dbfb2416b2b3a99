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

for the index set they were made for (:attr:`Entry.indexes`; another index set, read
after a path was declared, makes a new entry). Statements are immutable and hold their
values as bound parameters, so a remembered statement is the one the same query would
build again: the same SQL, the same parameters (``tests/integration/test_plan_cache.py``).

The key is the compiled-query cache's (:func:`crmcore.query.evaluate.query_key`): every
node and operand with its type, since queries equal as values can need different SQL
(``1 == True`` in Python). Queries that cache does not keep (estimated larger than
:data:`~crmcore.query.evaluate.UNCACHED_BYTES`) are not kept here either, nor more than
:data:`MAX_ENTRIES` (the oldest is dropped first).

This is a fast path: the reference builds everything anew for each call, which is what
happens with ``CRMCORE_NO_FAST_PATHS=1`` (:meth:`PlanCache.entry` keeps nothing).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Select, Table

from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.query import CompiledQuery, Query
from crmcore.query.evaluate import UNCACHED_BYTES, query_key
from crmcore.storage.ports import RECORD_TYPES, RecordKind
from crmcore.storage.sqlalchemy import _count, _query

if TYPE_CHECKING:
    from crmcore.storage.indexing import IndexSet
    from crmcore.storage.sqlalchemy._query import SqlPlan

__all__ = ["MAX_ENTRIES", "Entry", "PlanCache", "plan_key"]

MAX_ENTRIES = 512
"""At most this many queries are remembered per backend (the oldest is dropped first)."""

_UNSET: Any = object()


@attrs.define(eq=False)
class Entry:
    """What one backend built for one query and one index set, each part when first asked.

    Attributes:
        compiled: The query checked against its model.
        indexes: The index set the statements are made for.
        first: The first statement of each segment's walk: by the segment's position,
            then by chunk size (``_order.walk``'s ``memo``).
    """

    compiled: CompiledQuery
    indexes: IndexSet | None
    first: dict[int, dict[int, Select[Any]]] = attrs.Factory(dict)
    _plan: SqlPlan | None = None
    _count: Select[Any] | None = _UNSET

    def plan(self, table: Table) -> SqlPlan:
        """The page plan (``_query.plan``)."""
        if self._plan is None:
            self._plan = _query.plan(self.compiled, table, self.indexes)
        return self._plan

    def count_statement(self, table: Table) -> Select[Any] | None:
        """The count statement (``_count.count_statement``; ``None``: counted in Python)."""
        if self._count is _UNSET:
            self._count = _count.count_statement(self.compiled, table, self.indexes)
        return self._count


def plan_key(kind: str, query: Query) -> tuple[str, tuple[object, ...]] | None:
    """The cache key of ``query`` on ``kind`` (``None``: too large to keep)."""
    flat, size = query_key(query)
    return None if size > UNCACHED_BYTES else (kind, flat)


class PlanCache:
    """The remembered plans of one backend (thread-safe; see the module)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, tuple[object, ...]], Entry] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def entry(self, kind: RecordKind, query: Query, indexes: IndexSet | None) -> Entry:
        """The entry of ``query`` for ``indexes``, made (compiled) if new.

        When fast paths are off or the query is too large to keep, a new entry that is
        not kept (the reference: everything built anew for this call).
        """
        key = plan_key(kind, query) if fast_paths_enabled() else None
        if key is not None:
            found = self._entries.get(key)
            if found is not None and found.indexes is indexes:
                return found
        made = Entry(query.compile(RECORD_TYPES[kind]), indexes)
        if key is not None:
            with self._lock:
                self._entries.pop(key, None)
                while len(self._entries) >= MAX_ENTRIES:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = made
        return made

    def clear(self) -> None:
        """Forget every plan."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: weakref.WeakSet[PlanCache] = weakref.WeakSet()


@on_switch
def _clear_all() -> None:
    for cache in list(_CACHES):
        cache.clear()

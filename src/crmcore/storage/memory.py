"""The in-memory reference backend: fast, thread-safe, not persistent.

Committed state is a dictionary of immutable records per kind, guarded by one lock.
A :class:`MemoryTransaction` buffers its writes; each write is checked against the
version the transaction sees (its own writes, else the committed state), and at
commit every written record is checked again, under the lock, against the committed
version it was based on. A stale write therefore raises
:class:`~crmcore.errors.ConcurrencyConflict` either when it is made or at commit,
and a conflicting commit changes nothing. Reads see committed data plus the
transaction's own writes (read committed).

Queries are answered by :meth:`crmcore.query.Query.apply` itself, over candidates.
Committed customers are indexed in dictionaries (:class:`CustomerIndex`): every entry
of the backend's :class:`~crmcore.storage.indexing.IndexSet` (tags, phones, emails,
identifiers, address parts, dates and their month-days, facts), the key columns
``kind`` and ``lifecycle_stage``, and the consent audience keys
(:func:`~crmcore.query.reachable_keys`, under ``@reachable``). A filter whose
equality, ``in``, ``contains``, ``month_day`` or ``reachable`` leaves (alone, under
``and``, or all the branches of an ``or``) are on indexed paths reads only the
customers the index names, plus the transaction's own writes, and the reference
predicate decides among them, so the answer is exactly :meth:`Query.apply` over
everything. The index follows the committed state itself (:class:`IndexedCustomers`
notes every change, at commit, under the lock; the next indexed query brings the
index up to date first), never a transaction's buffered writes. With fast paths off
(``CRMCORE_NO_FAST_PATHS=1``) every query scans.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import ConcurrencyConflict, DuplicateRecord, NotFound, StorageError
from crmcore.models import ChangeRecord, Customer
from crmcore.query import (
    And,
    AnyFilter,
    Compare,
    In,
    MonthDay,
    Op,
    Or,
    Reachable,
    coerce_value,
)
from crmcore.query.audience import audience_key
from crmcore.query.month_days import in_window
from crmcore.storage._arguments import check_batch_size
from crmcore.storage.indexing import MONTH_DAY_SUFFIX, REACHABLE_PATH, IndexSet, index_form
from crmcore.storage.ports import RECORD_TYPES, Capabilities, Record, RecordKind

if TYPE_CHECKING:
    from crmcore.query import Query

__all__ = [
    "KEY_PATHS",
    "CustomerIndex",
    "IndexedCustomers",
    "MemoryBackend",
    "MemoryTransaction",
]

_DELETED = None

KEY_PATHS: tuple[str, ...] = ("kind", "lifecycle_stage")
"""Customer columns the memory backend indexes besides its index set's paths."""


_ALL_MONTH_DAYS = tuple(
    f"{m:02d}-{d:02d}"
    for m, days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1)
    for d in range(1, days + 1)
)

IndexKey = tuple[str, str | int]
"""An index key: an entry path and a value in index form."""


class CustomerIndex:
    """Dictionary indexes over committed customers: index key -> customer ids.

    Not thread-safe by itself: :class:`MemoryBackend` reads and changes it under its
    lock. :meth:`changed` notes a committed change; the next :meth:`candidates`
    indexes the noted customers first (:meth:`refresh`), so a bulk import pays for its
    index once, when it is first queried, and never for writes no query reads.
    :meth:`candidates` names a superset of the customers a filter can match, or
    ``None`` when the index cannot narrow it down.
    """

    def __init__(self, index_set: IndexSet) -> None:
        self.index_set = index_set
        self._paths = IndexSet.of([*index_set.declared, *KEY_PATHS])
        self._ids: dict[IndexKey, set[str]] = {}
        self._keys: dict[str, frozenset[IndexKey]] = {}
        self._pending: dict[str, Customer | None] = {}

    def changed(self, record_id: str, customer: Customer | None) -> None:
        """Note that committed customer ``record_id`` is now ``customer`` (``None``: deleted)."""
        self._pending[record_id] = customer

    def refresh(self) -> None:
        """Index every customer noted by :meth:`changed` since the last refresh."""
        pending, self._pending = self._pending, {}
        for record_id, customer in pending.items():
            self.put(record_id, None if customer is None else self.keys_of(customer))

    def keys_of(self, customer: Customer) -> frozenset[IndexKey]:
        """Every index key of ``customer`` (a pure function of the customer)."""
        return frozenset((entry.path, entry.value) for entry in self._paths.entries(customer))

    def put(self, record_id: str, keys: frozenset[IndexKey] | None) -> None:
        """Index customer ``record_id`` under ``keys`` (``None``: it was deleted)."""
        old = self._keys.pop(record_id, None)
        new = keys or frozenset()
        if old is not None:
            for key in old - new:
                ids = self._ids[key]
                ids.discard(record_id)
                if not ids:
                    del self._ids[key]
        for key in new if old is None else new - old:
            holders = self._ids.get(key)
            if holders is None:
                self._ids[key] = {record_id}
            else:
                holders.add(record_id)
        if keys is not None:
            self._keys[record_id] = keys

    def clear(self) -> None:
        """Forget every indexed customer."""
        self._ids = {}
        self._keys = {}
        self._pending = {}

    def _union(self, keys: Iterable[IndexKey]) -> set[str]:
        found: set[str] = set()
        for key in keys:
            found |= self._ids.get(key, set())
        return found

    def _equal(self, path: str, operands: Iterable[Any]) -> set[str] | None:
        indexed = self._paths.get(path)
        if indexed is None:
            return None
        leaf = indexed.resolved.leaf
        return self._union((path, index_form(coerce_value(leaf, v))) for v in operands)

    def candidates(self, node: AnyFilter) -> set[str] | None:
        """The ids of every customer ``node`` can match, or ``None`` (any customer can).

        The node must have been checked (compiled) against :class:`Customer`.
        """
        if self._pending:
            self.refresh()
        return self._narrow(node)

    def _narrow(self, node: AnyFilter) -> set[str] | None:
        if isinstance(node, Compare):
            if node.op in (Op.EQ, Op.CONTAINS):
                return self._equal(node.path, [node.value])
            return None
        if isinstance(node, In):
            return self._equal(node.path, node.values)
        if isinstance(node, MonthDay):
            indexed = self._paths.get(node.path)
            if indexed is None or not indexed.month_day:
                return None
            path = node.path + MONTH_DAY_SUFFIX
            return self._union(
                (path, md) for md in _ALL_MONTH_DAYS if in_window(md, node.start, node.end)
            )
        if isinstance(node, Reachable):
            if node.purpose is None:  # only consent keys are indexed (see indexing)
                return None
            return set(
                self._ids.get((REACHABLE_PATH, audience_key(node.channel, node.purpose)), ())
            )
        if isinstance(node, And):
            parts = [c for c in map(self._narrow, node.filters) if c is not None]
            if not parts:
                return None
            parts.sort(key=len)
            return parts[0].intersection(*parts[1:])
        if isinstance(node, Or):
            found: set[str] = set()
            for part in node.filters:
                ids = self._narrow(part)
                if ids is None:
                    return None
                found |= ids
            return found
        return None  # is_null, not, search, ordered comparisons: scan


class IndexedCustomers(dict[str, Record]):
    """The committed customers by id; every change to it changes its :class:`CustomerIndex`.

    The index therefore always describes exactly the committed state, whichever code
    changes that state (the backend's commit, or a subclass's own).
    """

    __slots__ = ("index",)

    def __init__(self, index: CustomerIndex) -> None:
        super().__init__()
        self.index = index

    def __setitem__(self, record_id: str, record: Record) -> None:
        if not isinstance(record, Customer):
            raise TypeError(f"expected a Customer, got {type(record).__name__}")
        super().__setitem__(record_id, record)
        self.index.changed(record_id, record)

    def __delitem__(self, record_id: str) -> None:
        super().__delitem__(record_id)
        self.index.changed(record_id, None)

    def pop(self, record_id: str, *default: Any) -> Any:
        """Remove and return a customer (``default`` when it is absent)."""
        if record_id in self:
            record = super().pop(record_id)
            self.index.changed(record_id, None)
            return record
        if default:
            return default[0]
        raise KeyError(record_id)

    def popitem(self) -> tuple[str, Record]:
        """Remove and return some customer."""
        record_id, record = super().popitem()
        self.index.changed(record_id, None)
        return record_id, record

    def setdefault(self, record_id: str, default: Record) -> Record:
        """The customer ``record_id``, stored as ``default`` first if absent."""
        if record_id not in self:
            self[record_id] = default
        return self[record_id]

    def update(self, *others: Any, **named: Record) -> None:
        """Store every customer given, one by one (each indexed)."""
        for record_id, record in dict(*others, **named).items():
            self[record_id] = record

    def clear(self) -> None:
        """Drop every customer and the index."""
        super().clear()
        self.index.clear()


class MemoryBackend:
    """An in-memory :class:`~crmcore.storage.ports.Backend`; everything is lost on close.

    >>> from crmcore.storage import Store
    >>> store = Store(MemoryBackend())
    """

    capabilities = Capabilities(persistent=False, concurrent_writers=True)

    def __init__(self, *, indexes: IndexSet | None = None) -> None:
        self._lock = threading.RLock()
        self._index = CustomerIndex(IndexSet.of() if indexes is None else indexes)
        self._records: dict[RecordKind, dict[str, Record]] = self._empty()
        self._history: dict[str, list[ChangeRecord]] = {}
        self._closed = False

    def begin(self) -> MemoryTransaction:
        """Start a transaction."""
        if self._closed:
            raise StorageError("the memory backend is closed")
        return MemoryTransaction(self)

    def close(self) -> None:
        """Drop every record; the backend is unusable afterwards."""
        with self._lock:
            self._closed = True
            self._index.clear()
            self._records = self._empty()
            self._history = {}

    def _empty(self) -> dict[RecordKind, dict[str, Record]]:
        records: dict[RecordKind, dict[str, Record]] = {kind: {} for kind in RECORD_TYPES}
        records["customer"] = IndexedCustomers(self._index)
        return records


class MemoryTransaction:
    """A transaction of :class:`MemoryBackend` (see the module documentation)."""

    def __init__(self, backend: MemoryBackend) -> None:
        self._backend = backend
        # (kind, id) -> record written, or None for a deletion
        self._writes: dict[tuple[RecordKind, str], Record | None] = {}
        # (kind, id) -> committed version the first write was based on (None: absent)
        self._bases: dict[tuple[RecordKind, str], int | None] = {}
        self._history: list[ChangeRecord] = []
        self._done = False

    # ------------------------------------------------------------------ helpers

    def _check_open(self) -> None:
        if self._done:
            raise StorageError("this transaction has already been committed or rolled back")

    def _committed(self, kind: RecordKind, record_id: str) -> Record | None:
        return self._backend._records[kind].get(record_id)

    def _view(self, kind: RecordKind, record_id: str) -> Record | None:
        key = (kind, record_id)
        if key in self._writes:
            return self._writes[key]
        return self._committed(kind, record_id)

    def _write(
        self, kind: RecordKind, record_id: str, record: Record | None, base: int | None
    ) -> None:
        # ``base``: the version the first write of this record relied on (None: absent);
        # commit checks that the committed state still has it.
        self._bases.setdefault((kind, record_id), base)
        self._writes[kind, record_id] = record

    def _all(self, kind: RecordKind) -> list[Record]:
        with self._backend._lock:
            merged = dict(self._backend._records[kind])
        for (k, record_id), record in self._writes.items():
            if k != kind:
                continue
            if record is None:
                merged.pop(record_id, None)
            else:
                merged[record_id] = record
        return list(merged.values())

    def _candidates(self, kind: RecordKind, query: Query) -> list[Record]:
        """The records ``query`` can match: the index's candidates, else every record."""
        if kind != "customer" or query.where is None or not fast_paths_enabled():
            return self._all(kind)
        backend = self._backend
        with backend._lock:
            ids = backend._index.candidates(query.where)
            if ids is None:
                return self._all(kind)
            committed = backend._records[kind]
            if 2 * len(ids) > len(committed):
                return self._all(kind)  # copying most of the records: scanning is cheaper
            found = {i: committed[i] for i in ids if i in committed}
        for (k, record_id), record in self._writes.items():
            if k != kind:
                continue
            if record is None:
                found.pop(record_id, None)
            else:  # own writes are checked by the predicate, matching or not
                found[record_id] = record
        return list(found.values())

    # ------------------------------------------------------------------ reads

    def get(self, kind: RecordKind, record_id: str) -> Record | None:
        """The record as this transaction sees it, or ``None``."""
        self._check_open()
        with self._backend._lock:
            return self._view(kind, record_id)

    def get_many(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
        """The records among ``record_ids`` that exist, by id."""
        self._check_open()
        found: dict[str, Record] = {}
        with self._backend._lock:
            for record_id in record_ids:
                record = self._view(kind, record_id)
                if record is not None:
                    found[record_id] = record
        return found

    def query(self, kind: RecordKind, query: Query) -> list[Record]:
        """Exactly :meth:`Query.apply` over the records this transaction sees."""
        self._check_open()
        compiled = query.compile(RECORD_TYPES[kind])
        return compiled.apply(self._candidates(kind, query))

    def count(self, kind: RecordKind, query: Query) -> int:
        """How many records pass ``query``'s filter."""
        self._check_open()
        predicate = query.compile(RECORD_TYPES[kind]).predicate
        return sum(1 for record in self._candidates(kind, query) if predicate(record))

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        """Every record ordered by id, looked up ``batch_size`` ids at a time."""
        self._check_open()
        check_batch_size(batch_size)
        ids = sorted(record.id for record in self._all(kind))
        for start in range(0, len(ids), batch_size):
            batch = self.get_many(kind, ids[start : start + batch_size])
            for record_id in ids[start : start + batch_size]:
                if record_id in batch:
                    yield batch[record_id]

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Committed and own change records of one customer, oldest first."""
        self._check_open()
        with self._backend._lock:
            records = list(self._backend._history.get(customer_id, ()))
        records += [r for r in self._history if r.customer_id == customer_id]
        return sorted(records, key=lambda r: (r.at, r.version))

    # ------------------------------------------------------------------ writes

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        """Buffer new records; a duplicate id (stored or in the batch) changes nothing."""
        self._check_open()
        with self._backend._lock:
            seen: set[str] = set()
            for record in records:
                if record.id in seen or self._view(kind, record.id) is not None:
                    raise DuplicateRecord(kind, record.id)
                seen.add(record.id)
            for record in records:
                self._write(kind, record.id, record, None)

    def _check_version(self, kind: RecordKind, record_id: str, expected_version: int) -> None:
        current = self._view(kind, record_id)
        if current is None:
            raise NotFound(kind, record_id)
        if current.version != expected_version:
            raise ConcurrencyConflict(
                kind,
                record_id,
                expected_version=expected_version,
                actual_version=current.version,
            )

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        """Buffer a replacement of a record stored at ``expected_version``."""
        self._check_open()
        with self._backend._lock:
            self._check_version(kind, record.id, expected_version)
            self._write(kind, record.id, record, expected_version)

    def delete(self, kind: RecordKind, record_id: str, *, expected_version: int) -> None:
        """Buffer the deletion of a record stored at ``expected_version``."""
        self._check_open()
        with self._backend._lock:
            self._check_version(kind, record_id, expected_version)
            self._write(kind, record_id, _DELETED, expected_version)

    def append_history(self, records: Sequence[ChangeRecord]) -> None:
        """Buffer change records."""
        self._check_open()
        self._history.extend(records)

    # ------------------------------------------------------------------ end

    def commit(self) -> None:
        """Check every write against the committed state, then apply all or nothing."""
        self._check_open()
        backend = self._backend
        with backend._lock:
            try:
                if backend._closed:
                    raise StorageError("the memory backend is closed")
                for (kind, record_id), base in self._bases.items():
                    committed = backend._records[kind].get(record_id)
                    actual = None if committed is None else committed.version
                    if actual != base:
                        if base is None:
                            raise DuplicateRecord(kind, record_id)
                        raise ConcurrencyConflict(
                            kind, record_id, expected_version=base, actual_version=actual
                        )
                for (kind, record_id), record in self._writes.items():
                    if record is None:
                        backend._records[kind].pop(record_id, None)
                    else:
                        backend._records[kind][record_id] = record
                for change in self._history:
                    backend._history.setdefault(change.customer_id, []).append(change)
            finally:
                self._finish()

    def rollback(self) -> None:
        """Discard every buffered write (a no-op once finished)."""
        self._finish()

    def _finish(self) -> None:
        self._done = True
        self._writes = {}
        self._bases = {}
        self._history = []


if TYPE_CHECKING:  # static proof that the classes implement the port's protocols
    from crmcore.storage.ports import Backend, Transaction

    def _is_backend(backend: MemoryBackend) -> Backend:
        return backend

    def _is_transaction(tx: MemoryTransaction) -> Transaction:
        return tx

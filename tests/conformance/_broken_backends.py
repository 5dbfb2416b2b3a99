"""Backends each broken in one way the conformance kit must catch (not a test module).

Each is the memory reference backend with exactly one defect, of the kinds a backend
written from docs/writing-a-backend.md was found to have. ``BROKEN`` maps a name to
the backend's factory and the kit tests that must fail on it (``required``); every
other kit test may fail only if it is listed in ``allowed`` (a consequence of the same
defect), so each defect is shown to be caught by the test written for it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from crmcore.errors import ConcurrencyConflict, DuplicateRecord, NotFound
from crmcore.models import ChangeRecord
from crmcore.serialization import from_dict, to_dict
from crmcore.storage import MemoryBackend, MemoryTransaction, RecordKind
from crmcore.storage.ports import RECORD_TYPES, Capabilities, Record

# --------------------------------------------------------------------------- versions


class IgnoresExpectedVersion(MemoryTransaction):
    """update and delete check that the record exists, not its version."""

    def _check_version(self, kind: RecordKind, record_id: str, expected_version: int) -> None:
        if self._view(kind, record_id) is None:
            raise NotFound(kind, record_id)

    def _write(
        self, kind: RecordKind, record_id: str, record: Record | None, base: int | None
    ) -> None:
        if base is not None:  # "based on" whatever is stored now: commit finds no conflict
            committed = self._committed(kind, record_id)
            base = None if committed is None else committed.version
        super()._write(kind, record_id, record, base)


# --------------------------------------------------------------------------- commits


class NonAtomicCommit(MemoryTransaction):
    """commit checks and applies one write at a time: a late conflict leaves earlier writes."""

    def commit(self) -> None:
        backend = self._backend
        with backend._lock:
            try:
                for key, record in self._writes.items():
                    kind, record_id = key
                    _check_base(backend, kind, record_id, self._bases[key])
                    _apply(backend, kind, record_id, record)
                for change in self._history:
                    backend._history.setdefault(change.customer_id, []).append(change)
            finally:
                self._finish()


class CommitPerKind(MemoryTransaction):
    """commit is one transaction per record kind, as a backend with a store per kind."""

    def commit(self) -> None:
        backend = self._backend
        with backend._lock:
            try:
                for kind in RECORD_TYPES:
                    mine = {k: r for k, r in self._writes.items() if k[0] == kind}
                    for (_, record_id), _record in mine.items():
                        _check_base(backend, kind, record_id, self._bases[kind, record_id])
                    for (_, record_id), record in mine.items():
                        _apply(backend, kind, record_id, record)
                for change in self._history:
                    backend._history.setdefault(change.customer_id, []).append(change)
            finally:
                self._finish()


class DeletesLast(MemoryTransaction):
    """commit applies every insert and update, then every delete of the transaction."""

    def __init__(self, backend: MemoryBackend) -> None:
        super().__init__(backend)
        self.deleted: list[tuple[RecordKind, str]] = []

    def delete(self, kind: RecordKind, record_id: str, *, expected_version: int) -> None:
        super().delete(kind, record_id, expected_version=expected_version)
        self.deleted.append((kind, record_id))

    def commit(self) -> None:
        backend, deleted = self._backend, self.deleted
        super().commit()
        with backend._lock:
            for kind, record_id in deleted:
                backend._records[kind].pop(record_id, None)


class WriteThrough(MemoryTransaction):
    """Writes go straight to the committed state: rollback cannot discard them."""

    def commit(self) -> None:
        self._bases = {}
        super().commit()

    def _write(
        self, kind: RecordKind, record_id: str, record: Record | None, base: int | None
    ) -> None:
        _apply(self._backend, kind, record_id, record)


# --------------------------------------------------------------------------- inserts


class InsertOverwrites(MemoryTransaction):
    """insert checks only the transaction's own writes; commit never re-checks inserts."""

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        for record in records:
            if (kind, record.id) in self._writes:
                raise DuplicateRecord(kind, record.id)
        for record in records:
            self._writes[kind, record.id] = record


class InsertTwiceOverwrites(MemoryTransaction):
    """insert checks the committed state only: a second insert in one transaction wins."""

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        for record in records:
            if self._committed(kind, record.id) is not None:
                raise DuplicateRecord(kind, record.id)
        for record in records:
            self._write(kind, record.id, record, None)


# --------------------------------------------------------------------------- reads


class GetManyMissesOwnRemoves(MemoryTransaction):
    """get_many reads removed records from the committed state."""

    def get_many(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
        found = super().get_many(kind, record_ids)
        for record_id in record_ids:
            committed = self._committed(kind, record_id)
            if record_id not in found and committed is not None:
                found[record_id] = committed
        return found


class CountMissesOwnRemoves(MemoryTransaction):
    """count counts committed records the transaction removed."""

    def count(self, kind: RecordKind, query: Any) -> int:
        removed = sum(1 for (k, _), r in self._writes.items() if k == kind and r is None)
        return super().count(kind, query) + removed


class ScanOwnWritesLast(MemoryTransaction):
    """scan yields committed records in id order, then the transaction's new ones."""

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        new = {i for (k, i), r in self._writes.items() if k == kind and r is not None}
        records = list(super().scan(kind, batch_size=batch_size))
        yield from (r for r in records if r.id not in new)
        yield from (r for r in records if r.id in new)


class ScanRepeatsAtBoundaries(MemoryTransaction):
    """scan starts each batch at the last id of the previous one (>= instead of >)."""

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        ids = sorted(r.id for r in self._all(kind))
        start = 0
        while True:
            batch = ids[start : start + batch_size]
            found = self.get_many(kind, batch)
            yield from (found[i] for i in batch)
            if start + batch_size >= len(ids):
                return
            start += batch_size - 1 if batch_size > 1 else 1


class ScanSkipsAtBoundaries(MemoryTransaction):
    """scan skips the first record of every batch after the first."""

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        ids = sorted(r.id for r in self._all(kind))
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            found = self.get_many(kind, batch if start == 0 else batch[1:])
            yield from found.values()


class CachedBackend(MemoryBackend):
    """Caches records read by id; an update refreshes the cache, a delete forgets to."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[tuple[RecordKind, str], Record] = {}

    def begin(self) -> MemoryTransaction:
        return CachedTransaction(self)


class CachedTransaction(MemoryTransaction):
    """The transaction of :class:`CachedBackend`."""

    _backend: CachedBackend

    def get(self, kind: RecordKind, record_id: str) -> Record | None:
        key = (kind, record_id)
        if key not in self._writes and key in self._backend.cache:
            return self._backend.cache[key]
        record = super().get(kind, record_id)
        if record is not None and key not in self._writes:
            self._backend.cache[key] = record
        return record

    def commit(self) -> None:
        written = {k: r for k, r in self._writes.items() if r is not None}
        super().commit()
        self._backend.cache.update(written)


# --------------------------------------------------------------------------- text


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


class NormalisesText(MemoryTransaction):
    """Stores every text NFC-normalised, as a database with a normalising collation."""

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        super().insert(kind, [_normalised(kind, r) for r in records])

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        super().update(kind, _normalised(kind, record), expected_version=expected_version)


def _normalised(kind: RecordKind, record: Record) -> Record:
    return from_dict(_nfc(to_dict(record)), RECORD_TYPES[kind])


# --------------------------------------------------------------------------- history


class HistoryByWallClock(MemoryTransaction):
    """history() sorts by local wall-clock time, ignoring the UTC offset."""

    def history(self, customer_id: str) -> list[ChangeRecord]:
        return sorted(
            super().history(customer_id), key=lambda r: (r.at.replace(tzinfo=None), r.version)
        )


class HistoryByText(MemoryTransaction):
    """history() sorts by the timestamps' ISO text, as a backend storing them as strings."""

    def history(self, customer_id: str) -> list[ChangeRecord]:
        return sorted(super().history(customer_id), key=lambda r: (r.at.isoformat(), r.version))


class HistoryKeyedByVersion(MemoryTransaction):
    """history() keeps one record per version: a re-created customer loses its first life."""

    def history(self, customer_id: str) -> list[ChangeRecord]:
        by_version = {r.version: r for r in super().history(customer_id)}
        return sorted(by_version.values(), key=lambda r: (r.at, r.version))


class OwnHistoryInvisible(MemoryTransaction):
    """history() shows committed change records only."""

    def history(self, customer_id: str) -> list[ChangeRecord]:
        with self._backend._lock:
            records = list(self._backend._history.get(customer_id, ()))
        return sorted(records, key=lambda r: (r.at, r.version))


class HistoryWrittenAtOnce(MemoryTransaction):
    """append_history() writes straight to the log: rollback keeps the change records."""

    def append_history(self, records: Sequence[ChangeRecord]) -> None:
        with self._backend._lock:
            for change in records:
                self._backend._history.setdefault(change.customer_id, []).append(change)


# --------------------------------------------------------------------------- harness


def _check_base(backend: MemoryBackend, kind: RecordKind, record_id: str, base: int | None) -> None:
    committed = backend._records[kind].get(record_id)
    actual = None if committed is None else committed.version
    if actual != base:
        if base is None:
            raise DuplicateRecord(kind, record_id)
        raise ConcurrencyConflict(kind, record_id, expected_version=base, actual_version=actual)


def _apply(backend: MemoryBackend, kind: RecordKind, record_id: str, record: Record | None) -> None:
    if record is None:
        backend._records[kind].pop(record_id, None)
    else:
        backend._records[kind][record_id] = record


class PersistentMemory(MemoryBackend):
    """A memory backend that claims persistence: :meth:`reopened` shares its data."""

    capabilities = Capabilities(persistent=True, concurrent_writers=True)

    def reopened(self, *, keep_history: bool = True) -> PersistentMemory:
        """A new backend on the same records (and, unless told otherwise, history)."""
        again = type(self)()
        again._records = self._records
        if keep_history:
            again._history = self._history
        return again

    def close(self) -> None:
        self._closed = True


@attrs.frozen
class Broken:
    """One broken backend: how to make it, reopen it, and which kit tests it must fail."""

    make: Callable[[], MemoryBackend]
    required: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    reopen: Callable[[Any], MemoryBackend] | None = None


def _memory(
    transaction: type[MemoryTransaction], *, concurrent_writers: bool = True
) -> Callable[[], MemoryBackend]:
    def make() -> MemoryBackend:
        backend = MemoryBackend()
        backend.capabilities = Capabilities(persistent=False, concurrent_writers=concurrent_writers)
        backend.begin = lambda: transaction(backend)  # type: ignore[method-assign]
        return backend

    return make


def _forgets_history() -> PersistentMemory:
    return PersistentMemory()


_STALE_STORE_WRITES = (
    "test_stale_update_conflicts_and_changes_nothing",
    "test_stale_update_of_other_records_conflicts",
)
"""The store's stale-write tests catch a backend ignoring versions too."""

_DUPLICATES_THROUGH_THE_STORE = (
    "test_add_twice_raises_duplicate",
    "test_import_report",
    "test_import_without_upsert_rejects_existing",
    "test_remove_and_add_again_in_one_transaction",
    "test_same_id_twice_in_one_transaction",
)
"""What an insert that overwrites breaks through the store and in one transaction."""

_EVERY_SCAN = (
    "test_reads_see_own_removes_and_writes_in_order",
    "test_import_many_in_batches",
    "test_reads_see_own_removes",
    "test_reads_see_own_writes_in_id_order",
    "test_stream_yields_every_record_in_id_order",
)
"""Every test that scans, through the store or directly."""

_HISTORY_ORDER = (
    "test_a_recreated_customer_keeps_both_lives",
    "test_history_across_a_clock_change",
    "test_history_is_per_customer",
    "test_history_of_a_recreated_customer",
    "test_history_of_create_update_remove",
    "test_racing_writers_lose_nothing",
)
"""Every history test whose clock crosses the daylight-saving change."""

BROKEN: dict[str, Broken] = {
    "IgnoresExpectedVersionSerial": Broken(
        _memory(IgnoresExpectedVersion, concurrent_writers=False),
        required=("test_update_and_delete_check_the_expected_version",),
        allowed=_STALE_STORE_WRITES,
    ),
    "IgnoresExpectedVersionConcurrent": Broken(
        _memory(IgnoresExpectedVersion),
        required=("test_update_and_delete_check_the_expected_version",),
        allowed=_STALE_STORE_WRITES,
    ),
    "NonAtomicCommit": Broken(
        _memory(NonAtomicCommit),
        required=("test_conflict_at_commit_leaves_no_pending_write",),
    ),
    "CommitPerKind": Broken(
        _memory(CommitPerKind),
        required=(
            "test_conflict_at_commit_leaves_no_pending_write[interaction]",
            "test_conflict_at_commit_leaves_no_pending_write[complaint]",
            "test_conflict_at_commit_leaves_no_pending_write[purchase]",
            "test_conflict_at_commit_leaves_no_pending_write[merge]",
            "test_conflict_at_commit_leaves_no_pending_write[not_duplicate]",
        ),
    ),
    "DeletesLast": Broken(
        _memory(DeletesLast),
        required=("test_remove_and_add_again_in_one_transaction",),
    ),
    "WriteThrough": Broken(
        _memory(WriteThrough),
        required=("test_rollback_discards_writes_and_change_records",),
        allowed=(
            "test_conflict_at_commit_leaves_no_pending_write",
            "test_racing_writers_lose_nothing",
            "test_two_transactions_inserting_one_new_id",
            "test_two_writers_race_exactly_one_wins",
            "test_exception_rolls_back",
            "test_explicit_rollback",
            "test_failed_unit_of_work_saves_nothing_in_any_repository",
            "test_nothing_is_saved_without_commit",
            "test_uncommitted_writes_are_invisible_to_others",
            "test_unit_of_work_continues_after_commit",
        ),
    ),
    "InsertOverwrites": Broken(
        _memory(InsertOverwrites, concurrent_writers=False),
        required=("test_insert_of_a_stored_id_never_overwrites",),
        allowed=_DUPLICATES_THROUGH_THE_STORE,
    ),
    "InsertOverwritesConcurrent": Broken(
        _memory(InsertOverwrites),
        required=(
            "test_insert_of_a_stored_id_never_overwrites",
            "test_two_transactions_inserting_one_new_id",
        ),
        allowed=_DUPLICATES_THROUGH_THE_STORE,
    ),
    "InsertTwiceOverwrites": Broken(
        _memory(InsertTwiceOverwrites),
        required=("test_same_id_twice_in_one_transaction",),
        allowed=("test_remove_and_add_again_in_one_transaction",),
    ),
    "GetManyMissesOwnRemoves": Broken(
        _memory(GetManyMissesOwnRemoves),
        required=("test_reads_see_own_removes",),
    ),
    "CountMissesOwnRemoves": Broken(
        _memory(CountMissesOwnRemoves),
        required=("test_reads_see_own_removes",),
        allowed=(
            "test_reads_see_own_removes_and_writes_in_order",
            "test_reads_see_own_writes_in_id_order",
        ),
    ),
    "ScanOwnWritesLast": Broken(
        _memory(ScanOwnWritesLast),
        required=("test_reads_see_own_writes_in_id_order",),
        allowed=("test_reads_see_own_removes_and_writes_in_order",),
    ),
    "ScanRepeatsAtBoundaries": Broken(
        _memory(ScanRepeatsAtBoundaries),
        required=("test_scan_at_batch_boundaries",),
        allowed=_EVERY_SCAN,
    ),
    "ScanSkipsAtBoundaries": Broken(
        _memory(ScanSkipsAtBoundaries),
        required=("test_scan_at_batch_boundaries",),
        allowed=_EVERY_SCAN,
    ),
    "CachedReads": Broken(
        CachedBackend,
        required=("test_no_read_serves_a_deleted_record",),
        allowed=("test_remove",),
    ),
    "NormalisesText": Broken(
        _memory(NormalisesText),
        required=("test_text_is_kept_exactly",),
        allowed=("test_text_round_trips_exactly",),
    ),
    "HistoryByWallClock": Broken(
        _memory(HistoryByWallClock),
        required=("test_history_is_ordered_by_instant",),
        allowed=_HISTORY_ORDER,
    ),
    "HistoryByText": Broken(
        _memory(HistoryByText),
        required=("test_history_is_ordered_by_instant",),
        allowed=_HISTORY_ORDER,
    ),
    "HistoryKeyedByVersion": Broken(
        _memory(HistoryKeyedByVersion),
        required=(
            "test_a_recreated_customer_keeps_both_lives",
            "test_history_of_a_recreated_customer",
        ),
    ),
    "OwnHistoryInvisible": Broken(
        _memory(OwnHistoryInvisible),
        required=("test_own_uncommitted_history_is_visible",),
        allowed=(
            "test_history_is_ordered_by_instant",
            "test_rollback_discards_writes_and_change_records",
        ),
    ),
    "HistoryWrittenAtOnce": Broken(
        _memory(HistoryWrittenAtOnce),
        required=("test_rollback_discards_writes_and_change_records",),
        allowed=(
            "test_racing_writers_lose_nothing",
            "test_history_rolls_back_with_the_unit_of_work",
            "test_two_writers_race_exactly_one_wins",
        ),
    ),
    "HistoryLostOnReopen": Broken(
        _forgets_history,
        required=("test_history_survives_reopening",),
        reopen=lambda backend: backend.reopened(keep_history=False),
    ),
    "PersistentReference": Broken(
        _forgets_history, required=(), reopen=lambda backend: backend.reopened()
    ),
}
"""Every broken backend, by name (``PersistentReference`` is the control: it breaks nothing)."""

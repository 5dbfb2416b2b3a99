"""The import run for purchases, interactions and complaints.

:meth:`crmcore.storage.Store.import_records` makes one :class:`_RecordImportRun` per
call: the customer import's guarantees for one record kind, with each batch's
references to customers checked by one lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import ConcurrencyConflict, DuplicateRecord, Problem, ValidationError
from crmcore.models import Customer, replace
from crmcore.query import In, Query
from crmcore.serialization import from_dict
from crmcore.storage._context import WriteContext
from crmcore.storage._import_common import _Outcomes, _refused_update, _rejected
from crmcore.storage.import_report import ImportOutcome, ImportReport, ImportStatus
from crmcore.storage.ports import RECORD_KINDS, Record, RecordKind
from crmcore.storage.unit_of_work import unknown_reference


class _RecordImportRun:
    """One :meth:`Store.import_records` call: the customer import's guarantees for one kind.

    Records are read (structured with :func:`~crmcore.serialization.from_dict` when
    they are mappings), refused when they do not structure or repeat an id, and written
    ``batch_size`` at a time, each batch in one transaction. A batch's references are
    checked with one lookup of the customers it names (``get_many``); a record naming
    an unknown customer or contact person is refused (``storage.unknown_reference``)
    and the rest of the batch is written. Until a stored id is met, batches are
    inserted without looking their ids up, as customer imports are.
    """

    def __init__(
        self,
        context: WriteContext,
        kind: RecordKind,
        batch_size: int,
        upsert: bool,
        on_outcome: Callable[[ImportOutcome], None] | None,
    ) -> None:
        self.begin = context.begin
        self.now = context.now
        self.kind = kind
        self.model: type[Record] = RECORD_KINDS[kind].model
        self.batch_size = batch_size
        self.upsert = upsert
        self.outcomes = _Outcomes(on_outcome)
        self.ready: list[tuple[int, Record, bool]] = []  # index, record, gives created_at
        self.seen: set[str] = set()
        # insert first until a stored id is met; the careful path alone is the reference
        self.fast = fast_paths_enabled()
        self.optimistic = self.fast

    def add(self, index: int, item: Record | Mapping[str, Any]) -> None:
        """Read one input record; refuse it, or put it in the batch being filled."""
        record: Record
        if isinstance(item, self.model):
            record, gives_created_at = item, False
        elif isinstance(item, Mapping):
            try:
                record = from_dict(item, self.model)
            except ValidationError as error:
                raw_id = item.get("id")
                record_id = raw_id if isinstance(raw_id, str) else None
                self.outcomes.record([_rejected(index, record_id, error.problems)])
                return
            gives_created_at = "created_at" in item
        else:
            problem = Problem(
                code="type.invalid",
                message=f"expected a {self.model.__name__} or a mapping, got {type(item).__name__}",
            )
            self.outcomes.record([_rejected(index, None, (problem,))])
            return
        if record.id in self.seen:
            problem = Problem(
                code="import.duplicate_id",
                path="$.id",
                message="this id appears earlier in the same import",
            )
            self.outcomes.record([_rejected(index, record.id, (problem,))])
            return
        self.seen.add(record.id)
        self.ready.append((index, record, gives_created_at))
        if len(self.ready) >= self.batch_size:
            self._write()

    def finish(self) -> ImportReport:
        """Write what is left; the report of the whole run."""
        if self.ready:
            self._write()
        return self.outcomes.report()

    def _write(self) -> None:
        batch, self.ready = self.ready, []
        now = self.now()
        for attempt in range(5):
            try:
                outcomes = self._write_batch(batch, now if attempt == 0 else self.now())
            except (ConcurrencyConflict, DuplicateRecord):
                if self.optimistic:
                    self.optimistic = False  # a stored id: look the ids up from now on
                continue
            self.optimistic = self.fast and (
                self.optimistic
                or all(
                    o.status is not ImportStatus.UPDATED and o.status is not ImportStatus.UNCHANGED
                    for o in outcomes
                )
            )
            self.outcomes.record(outcomes)
            return
        problem = Problem(
            code="storage.conflict",
            path="$",
            message="kept conflicting with concurrent writers; nothing was written, try again",
        )
        self.outcomes.record([_rejected(i, r.id, (problem,)) for i, r, _ in batch])

    def _write_batch(self, batch: list[tuple[int, Record, bool]], now: Any) -> list[ImportOutcome]:
        kind, tx = self.kind, self.begin()
        try:
            known, customers = self._referred(tx, [record for _, record, _ in batch])
            outcomes: list[ImportOutcome] = []
            accepted: list[tuple[int, Record, bool]] = []
            for index, record, gives_created_at in batch:
                customer_id: str = getattr(record, "customer_id")  # noqa: B009
                if customer_id in known and getattr(record, "contact_person_id", None) is None:
                    error = None
                else:
                    error = unknown_reference(
                        record, cast(Customer | None, customers.get(customer_id))
                    )
                if error is None:
                    accepted.append((index, record, gives_created_at))
                    continue
                problem = Problem(code=error.code, path=f"$.{error.field}", message=str(error))
                outcomes.append(_rejected(index, record.id, (problem,)))
            existing: dict[str, Record] = {}
            if not self.optimistic:
                existing = tx.get_many(kind, [r.id for _, r, _ in accepted])
            inserts: list[Record] = []
            for index, record, gives_created_at in accepted:
                old = existing.get(record.id)
                if old is None:
                    stamp: dict[str, Any] = {"version": 1}
                    if not gives_created_at:
                        stamp["created_at"] = now
                    stored = replace(record, **stamp)
                    inserts.append(stored)
                    outcomes.append(
                        ImportOutcome(
                            index=index, id=record.id, status=ImportStatus.CREATED, version=1
                        )
                    )
                    continue
                outcomes.append(self._update(tx, index, old, record))
            if inserts:
                tx.insert(kind, inserts)
            tx.commit()
        except BaseException:
            tx.rollback()
            raise
        outcomes.sort(key=lambda o: o.index)
        return outcomes

    @staticmethod
    def _referred(tx: Any, records: list[Record]) -> tuple[set[str], dict[str, Record]]:
        """The stored ids among the customers ``records`` name, and the customers needed.

        One query in the common case: a count of the named ids (no document is read)
        says whether all are stored; only the customers whose contact persons a record
        names are read. When some id is not stored, one ``get_many`` says which.
        """
        ids = sorted({getattr(r, "customer_id") for r in records})  # noqa: B009
        with_persons = sorted(
            {
                getattr(r, "customer_id")  # noqa: B009
                for r in records
                if getattr(r, "contact_person_id", None) is not None
            }
        )
        if tx.count("customer", Query(where=In(path="id", values=tuple(ids)))) == len(ids):
            return set(ids), tx.get_many("customer", with_persons) if with_persons else {}
        customers: dict[str, Record] = tx.get_many("customer", ids)
        return set(customers), customers

    def _update(self, tx: Any, index: int, old: Record, record: Record) -> ImportOutcome:
        """Update a stored record from an imported one, keep it, or refuse the import."""
        problem = _refused_update(self.kind, self.upsert, record.version, old.version)
        if problem is not None:
            return _rejected(index, record.id, (problem,))
        candidate = replace(record, version=old.version, created_at=old.created_at)
        if candidate == old:
            return ImportOutcome(
                index=index, id=old.id, status=ImportStatus.UNCHANGED, version=old.version
            )
        stored = replace(candidate, version=old.version + 1)
        tx.update(self.kind, stored, expected_version=old.version)
        return ImportOutcome(
            index=index, id=old.id, status=ImportStatus.UPDATED, version=stored.version
        )

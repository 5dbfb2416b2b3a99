"""Bulk import of customers: the report, its outcomes, and the run that decides them.

:meth:`crmcore.storage.Store.import_customers` makes one :class:`_ImportRun` per call.
The run owns all of its state (records waiting for the normaliser, the batch being
filled, the ids seen, whether batches are inserted before their ids are looked up) and
takes what it needs from the store through a
:class:`~crmcore.storage._context.WriteContext`: transactions, the time, the
normaliser and whether history is recorded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar, cast

import attrs

from crmcore.errors import ConcurrencyConflict, DuplicateRecord, Problem, ValidationError
from crmcore.models import ChangeOperation, ChangeRecord, Customer, replace, replace_each
from crmcore.models._ids import new_id
from crmcore.serialization import from_dict
from crmcore.storage._arguments import check_batch_size
from crmcore.storage._context import WriteContext
from crmcore.storage.history import history_changes
from crmcore.storage.ports import BatchNormaliser, Record

__all__ = ["ImportOutcome", "ImportReport", "ImportStatus"]


class ImportStatus(enum.StrEnum):
    """What an import did with one input record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """What happened to one input record.

    Attributes:
        index: Position of the record in the input (0-based).
        id: The customer id, when the input had a usable one.
        status: Created, updated, unchanged or rejected.
        version: The stored version after the import (``None`` if rejected).
        problems: Why it was rejected (paths into the input record).
    """

    index: int
    id: str | None
    status: ImportStatus
    version: int | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ImportReport:
    """What an import did: counts by status, and the outcomes.

    Attributes:
        outcomes: One :class:`ImportOutcome` per input record, in input order; when the
            import was given ``on_outcome``, only the rejected ones (every outcome went
            to the callback instead, so memory stays flat however many records there are).
        created: How many customers were created.
        updated: How many customers were updated.
        unchanged: How many records equalled the stored customer and were not written.
        rejected: How many records were rejected (nothing of them was written).
    """

    outcomes: tuple[ImportOutcome, ...]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        """How many input records there were."""
        return self.created + self.updated + self.unchanged + self.rejected

    @property
    def ok(self) -> bool:
        """True when no record was rejected."""
        return self.rejected == 0

    def rejections(self) -> tuple[ImportOutcome, ...]:
        """Return the rejected outcomes, with their problems."""
        return tuple(o for o in self.outcomes if o.status is ImportStatus.REJECTED)


def _rejected(index: int, record_id: str | None, problems: Iterable[Problem]) -> ImportOutcome:
    return ImportOutcome(
        index=index, id=record_id, status=ImportStatus.REJECTED, problems=tuple(problems)
    )


def _read(
    index: int, item: Customer | Mapping[str, Any]
) -> tuple[Customer | None, str | None, ImportOutcome | None]:
    """The input record as a customer, the id the input gave (if any), or its rejection."""
    if isinstance(item, Customer):
        return item, item.id, None
    raw_id = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    record_id = raw_id if isinstance(raw_id, str) else None
    if not isinstance(item, Mapping):
        problem = Problem(
            code="type.invalid",
            message=f"expected a Customer or a mapping, got {type(item).__name__}",
        )
        return None, record_id, _rejected(index, record_id, (problem,))
    try:
        return from_dict(item, Customer), record_id, None
    except ValidationError as error:
        return None, record_id, _rejected(index, record_id, error.problems)


def _change_template(now: Any, actor: str | None, source: str | None) -> ChangeRecord:
    """One checked change record per batch, copied for each of its customers.

    Building it checks the clock's time, the actor and the source once.
    """
    return ChangeRecord(
        customer_id="-",
        operation=ChangeOperation.CREATED,
        at=now,
        version=1,
        actor=actor,
        source=source,
    )


def import_customers(
    context: WriteContext,
    records: Iterable[Customer | Mapping[str, Any]],
    *,
    batch_size: int,
    actor: str | None,
    source: str | None,
    upsert: bool,
    on_outcome: Callable[[ImportOutcome], None] | None,
) -> ImportReport:
    """Run one import (see :meth:`crmcore.storage.Store.import_customers`)."""
    check_batch_size(batch_size)
    run = _ImportRun(context, batch_size, actor, source, upsert, on_outcome)
    for index, item in enumerate(records):
        run.add(index, item)
    return run.finish()


class _ImportRun:
    """One :meth:`Store.import_customers` call.

    Records are read as they come; a :class:`~crmcore.storage.BatchNormaliser` then
    runs on chunks of ``batch_size`` read records (``check_many``), any other
    normaliser on each record as it is read. The normalised records are decided in
    input order, exactly as if each were normalised on reading: refused, a repeated
    id, or accepted; every ``batch_size`` accepted records are written as one batch.
    So outcomes are recorded in the same order, and batches hold the same records,
    whichever way the normaliser runs.
    """

    def __init__(
        self,
        context: WriteContext,
        batch_size: int,
        actor: str | None,
        source: str | None,
        upsert: bool,
        on_outcome: Callable[[ImportOutcome], None] | None,
    ) -> None:
        self.begin = context.begin
        self.now = context.now
        self.normalise = context.normalise
        self.record_history = context.record_history
        self.batch_size = batch_size
        self.actor, self.source, self.upsert = actor, source, upsert
        self.on_outcome = on_outcome
        # the outcomes the report keeps, and how many of each status there were
        self.kept: list[ImportOutcome] = []
        self.counts = dict.fromkeys(ImportStatus, 0)
        # a normaliser that runs batches, or None: the normaliser then runs as records are read
        self.batches: BatchNormaliser | None = context.batch_normaliser
        self.chunk = batch_size if self.batches is not None else 1
        # read records waiting for the normaliser: (index, customer, input id, outcome)
        self.pending: list[tuple[int, Customer | None, str | None, ImportOutcome | None]] = []
        self.waiting = 0  # how many of them are customers
        self.ready: list[tuple[int, Customer]] = []
        self.seen: set[str] = set()
        # Until a batch meets a stored id, batches are inserted without looking their
        # ids up first (the insert itself refuses a stored id; see _import_batch).
        self.optimistic = True

    def record(self, outcomes: Iterable[ImportOutcome]) -> None:
        """Count each outcome, keep it for the report if it must be, and pass it on."""
        on_outcome, counts, kept = self.on_outcome, self.counts, self.kept
        for outcome in outcomes:
            counts[outcome.status] += 1
            if on_outcome is None or outcome.status is ImportStatus.REJECTED:
                kept.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    def add(self, index: int, item: Customer | Mapping[str, Any]) -> None:
        """Read one input record; decide it now, or once its chunk is normalised."""
        customer, record_id, outcome = _read(index, item)
        if self.chunk == 1:  # normalised as it is read, decided at once
            if outcome is not None:
                self.record([outcome])
                return
            assert customer is not None
            try:
                result: Customer | ValidationError = self.normalise(customer)
            except ValidationError as error:
                result = error
            self._accept(index, result, record_id)
            return
        if outcome is not None and not self.pending:
            self.record([outcome])  # nothing read earlier is still undecided
            return
        self.pending.append((index, customer, record_id, outcome))
        if customer is not None:
            self.waiting += 1
            if self.waiting >= self.chunk:
                self._decide()

    def finish(self) -> ImportReport:
        """Decide and write what is left; the report of the whole run."""
        if self.pending:
            self._decide()
        if self.ready:
            self._write()
        kept, counts = self.kept, self.counts
        kept.sort(key=lambda o: o.index)
        return ImportReport(
            outcomes=tuple(kept),
            created=counts[ImportStatus.CREATED],
            updated=counts[ImportStatus.UPDATED],
            unchanged=counts[ImportStatus.UNCHANGED],
            rejected=counts[ImportStatus.REJECTED],
        )

    def _decide(self) -> None:
        pending, self.pending, self.waiting = self.pending, [], 0
        customers = [customer for _, customer, _, _ in pending if customer is not None]
        normalised = iter(self._check_many(customers))
        for index, _, record_id, outcome in pending:
            if outcome is not None:
                self.record([outcome])
            else:
                self._accept(index, next(normalised), record_id)

    def _check_many(self, customers: list[Customer]) -> list[Customer | ValidationError]:
        """Each customer normalised by the batch normaliser, or the error refusing it."""
        assert self.batches is not None
        try:
            results = self.batches.check_many(customers, now=self.now())
        except ValidationError as error:  # a clock giving a naive time: refuse each
            return [error] * len(customers)
        return [
            r.customer if r.ok else ValidationError(r.errors, subject="Customer") for r in results
        ]

    def _accept(
        self, index: int, result: Customer | ValidationError, record_id: str | None
    ) -> None:
        """Decide one normalised record: refused, a repeated id, or ready to write."""
        if isinstance(result, ValidationError):
            # the id the input gave, never one minted for an input without one
            self.record([_rejected(index, record_id, result.problems)])
        elif result.id in self.seen:
            problem = Problem(
                code="import.duplicate_id",
                path="$.id",
                message="this id appears earlier in the same import",
            )
            self.record([_rejected(index, result.id, (problem,))])
        else:
            self.seen.add(result.id)
            self.ready.append((index, result))
            if len(self.ready) >= self.batch_size:
                self._write()

    def _write(self) -> None:
        batch, self.ready = self.ready, []
        self.record(self._import_batch(batch))

    def _import_batch(self, batch: list[tuple[int, Customer]]) -> list[ImportOutcome]:
        """Write one batch in one transaction; retried when a concurrent writer interferes.

        While no stored id has been met, the batch is first inserted as it is: a fresh
        import then needs no lookup of its ids. The backend's insert refuses any
        stored id (:class:`DuplicateRecord`, part of the backend contract); the
        transaction is then rolled back, and this batch and the next ones look their
        ids up first, until a batch finds none of its ids stored.
        """
        now = self.now()
        if self.optimistic:
            try:
                return self._create_batch(batch, now)
            except (DuplicateRecord, ConcurrencyConflict):
                # a stored id (or a concurrent writer's, found at commit): go carefully
                self.optimistic = False
        for attempt in range(5):
            try:
                # a retry after a concurrent writer reads the clock again
                when = now if attempt == 0 else self.now()
                outcomes = self._write_batch(batch, when)
            except (ConcurrencyConflict, DuplicateRecord):
                continue  # someone wrote the same customers meanwhile: read them again
            self.optimistic = all(o.status is ImportStatus.CREATED for o in outcomes)
            return outcomes
        problem = Problem(
            code="storage.conflict",
            path="$",
            message="kept conflicting with concurrent writers; nothing was written, try again",
        )
        return [_rejected(i, c.id, (problem,)) for i, c in batch]

    def _create_batch(self, batch: list[tuple[int, Customer]], now: Any) -> list[ImportOutcome]:
        """Insert a batch of customers none of which is stored; DuplicateRecord if one is."""
        tx = self.begin()
        try:
            template = _change_template(now, self.actor, self.source)
            stored = replace_each(
                [customer for _, customer in batch], version=1, created_at=now, updated_at=now
            )
            tx.insert("customer", stored)
            if self.record_history:
                tx.append_history(
                    [replace(template, customer_id=c.id, id=new_id()) for c in stored]
                )
            tx.commit()
        except BaseException:
            tx.rollback()
            raise
        created = ImportStatus.CREATED
        return [
            ImportOutcome(index=index, id=customer.id, status=created, version=1)
            for (index, _), customer in zip(batch, stored, strict=True)
        ]

    def _write_batch(self, batch: list[tuple[int, Customer]], now: Any) -> list[ImportOutcome]:
        """Write a batch after looking its ids up: create, update, keep or refuse each."""
        upsert, record_history = self.upsert, self.record_history
        tx = self.begin()
        try:
            existing = tx.get_many("customer", [c.id for _, c in batch])
            template = _change_template(now, self.actor, self.source)
            inserts: list[Record] = []
            changes: list[ChangeRecord] = []
            outcomes: list[ImportOutcome] = []
            updates: list[tuple[int, Customer, Customer]] = []
            for index, customer in batch:
                old = cast(Customer | None, existing.get(customer.id))
                if old is None:
                    stored = replace(customer, version=1, created_at=now, updated_at=now)
                    inserts.append(stored)
                    outcomes.append(
                        ImportOutcome(
                            index=index, id=stored.id, status=ImportStatus.CREATED, version=1
                        )
                    )
                    if record_history:
                        changes.append(replace(template, customer_id=stored.id, id=new_id()))
                    continue
                problem = None
                if not upsert:
                    problem = Problem(
                        code="storage.duplicate",
                        path="$.id",
                        message="a customer with this id already exists (upsert=False)",
                    )
                elif customer.version not in (0, old.version):
                    problem = Problem(
                        code="storage.conflict",
                        path="$.version",
                        message=f"based on version {customer.version}, "
                        f"but the stored version is {old.version}",
                    )
                if problem is not None:
                    outcomes.append(_rejected(index, customer.id, (problem,)))
                    continue
                candidate = replace(
                    _adopt_ids(old, customer).renamed_from(old),
                    version=old.version,
                    created_at=old.created_at,
                    updated_at=old.updated_at,
                )
                if candidate == old:
                    outcomes.append(
                        ImportOutcome(
                            index=index,
                            id=old.id,
                            status=ImportStatus.UNCHANGED,
                            version=old.version,
                        )
                    )
                    continue
                stored = replace(
                    candidate, version=old.version + 1, updated_at=max(now, old.created_at)
                )
                updates.append((index, old, stored))
            if inserts:
                tx.insert("customer", inserts)
            for index, old, stored in updates:
                tx.update("customer", stored, expected_version=old.version)
                outcomes.append(
                    ImportOutcome(
                        index=index,
                        id=stored.id,
                        status=ImportStatus.UPDATED,
                        version=stored.version,
                    )
                )
                if not record_history:
                    continue
                changes.append(
                    replace(
                        template,
                        customer_id=stored.id,
                        id=new_id(),
                        operation=ChangeOperation.UPDATED,
                        version=stored.version,
                        changes=history_changes(old, stored),
                    )
                )
            if changes and record_history:
                tx.append_history(changes)
            tx.commit()
            return outcomes
        except BaseException:
            tx.rollback()
            raise


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_ITEM = TypeVar("_ITEM", bound=_Identified)
_ITEM_LISTS = ("phones", "emails", "addresses", "social_handles", "facts")


def _adopt(stored: tuple[_ITEM, ...], incoming: tuple[_ITEM, ...]) -> tuple[_ITEM, ...] | None:
    """Give incoming items that equal a stored item apart from their id the stored id."""
    stored_ids = {item.id for item in stored}
    incoming_ids = {item.id for item in incoming}
    free = [item for item in stored if item.id not in incoming_ids]
    adopted: list[_ITEM] = []
    changed = False
    for item in incoming:
        if item.id not in stored_ids:
            for candidate in free:
                if attrs.evolve(item, id=candidate.id) == candidate:  # type: ignore[misc]
                    item = candidate
                    free.remove(candidate)
                    changed = True
                    break
        adopted.append(item)
    return tuple(adopted) if changed else None


def _adopt_ids(old: Customer, new: Customer) -> Customer:
    """Keep the stored ids of contact points, facts and contact persons an import repeats.

    Imported data rarely carries the ids crmcore gave its contact points, so each import
    would otherwise mint new ones and every re-import of the same data would look like a
    change. A contact point (fact, contact person) equal to a stored one in everything
    but its id *is* that one, and keeps its id.
    """
    changes: dict[str, Any] = {}
    for name in _ITEM_LISTS:
        adopted = _adopt(getattr(old, name), getattr(new, name))
        if adopted is not None:
            changes[name] = adopted
    if old.organisation is not None and new.organisation is not None:
        persons = _adopt(old.organisation.contact_persons, new.organisation.contact_persons)
        if persons is not None:
            changes["organisation"] = attrs.evolve(new.organisation, contact_persons=persons)
    return attrs.evolve(new, **changes) if changes else new

"""The customer import run.

:meth:`crmcore.storage.Store.import_customers` makes one :class:`_ImportRun` per call.
The run owns all of its state (records waiting for the normaliser, the batch being
filled, the ids seen, whether batches are inserted before their ids are looked up) and
takes what it needs from the store through a
:class:`~crmcore.storage._context.WriteContext`: transactions, the time, the normaliser
and whether history is recorded. It hands outcomes on in input order
(:class:`~crmcore.storage._import_common._Outcomes`).
"""

from __future__ import annotations

import warnings as _warnings_module
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Literal, cast

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import ConcurrencyConflict, DuplicateRecord, Problem, ValidationError
from crmcore.models import ChangeOperation, ChangeRecord, Customer, replace, replace_each
from crmcore.models._ids import new_id
from crmcore.serialization import from_dict
from crmcore.storage._context import WriteContext
from crmcore.storage._import_common import _Outcomes, _refused_update, _rejected
from crmcore.storage._import_duplicates import DuplicateCheck, Skipped, match_by_keys
from crmcore.storage._merge import (
    MatchKey,
    adopt_ids,
    merge_into,
    presence_of_mapping,
    presence_of_model,
)
from crmcore.storage._parallel import (
    AUTO_MIN_RECORDS,
    NormaliserPool,
    Ready,
    Stamped,
    WorkerResult,
    auto_workers,
    check_batch,
    chunk_size,
    window,
    worker_preparer,
)
from crmcore.storage.history import history_changes, same_apart_from_bookkeeping
from crmcore.storage.import_report import ImportOutcome, ImportReport, ImportStatus
from crmcore.storage.ports import BatchNormaliser, Record
from crmcore.storage.unit_of_work import dropped_contact_person_uses

ImportMode = Literal["merge", "replace"]
"""How an import updates a stored customer: merge the row's fields in, or replace it."""


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


@attrs.define(slots=True)
class _Row:
    """One accepted input record on its way into a batch."""

    index: int
    raw: Any  # the input as given: a Customer or a mapping
    normalised: Customer | Ready  # a Ready: as a worker sent it, the model not yet built
    warnings: tuple[Problem, ...] = ()
    gives_created_at: bool = False  # a mapping row with a created_at (a legacy time to keep)
    input_id: str | None = None  # the id the input gave, if any
    prepared: Any = None  # what the backend's import_preparer made of it in a worker

    @property
    def customer(self) -> Customer:
        """The normalised customer (built from what the worker sent, the first time)."""
        normalised = self.normalised
        if isinstance(normalised, Customer):
            return normalised
        self.normalised = customer = normalised.customer()
        return customer

    def presence(self) -> dict[str, Any]:
        """Which fields the row had (see :mod:`crmcore.storage._merge`)."""
        if isinstance(self.raw, Mapping):
            return presence_of_mapping(self.raw)
        return presence_of_model(self.raw)


class _ImportRun:
    """One :meth:`Store.import_customers` call.

    Records are read as they come; a :class:`~crmcore.storage.BatchNormaliser` then
    runs on chunks of ``batch_size`` read records (``check_many``), any other
    normaliser on each record as it is read. The normalised records are decided in
    input order, exactly as if each were normalised on reading: refused, a repeated
    id, or accepted; every ``batch_size`` accepted records are written as one batch.
    So outcomes are recorded in the same order, and batches hold the same records,
    whichever way the normaliser runs.

    With a pool of workers (``workers`` > 1, see :mod:`crmcore.storage._parallel`),
    records are sent to the workers in chunks as they are read, and each chunk's
    results are decided here in input order, by the same :meth:`_accept`: the
    workers only structure and normalise. A mapping without an ``id`` gets its new
    id here, before it is sent, as reading it would give it one. Use the run as a
    context manager: leaving it shuts the pool down.
    """

    # a chunk sent to the workers: (index, input, input id, outcome decided on reading)
    _Entry = tuple[int, Any, str | None, ImportOutcome | None]

    def __init__(
        self,
        context: WriteContext,
        batch_size: int,
        actor: str | None,
        source: str | None,
        upsert: bool,
        on_outcome: Callable[[ImportOutcome], None] | None,
        mode: ImportMode,
        keys: tuple[MatchKey, ...],
        workers: int | None = 1,
        total: int | None = None,
        duplicates: DuplicateCheck | None = None,
    ) -> None:
        self.begin = context.begin
        self.now = context.now
        self.normalise = context.normalise
        self.record_history = context.record_history
        self.batch_size = batch_size
        self.actor, self.source, self.upsert = actor, source, upsert
        self.merge = mode == "merge"
        self.keys = keys
        self.duplicates = duplicates  # on_duplicate: see _import_duplicates
        self.matching = bool(keys) or duplicates is not None
        self.outcomes = _Outcomes(on_outcome)
        self.record = self.outcomes.record
        # a normaliser that runs batches, or None: the normaliser then runs as records are read
        self.batches: BatchNormaliser | None = context.batch_normaliser
        self.chunk = batch_size if self.batches is not None else 1
        # read records waiting for the normaliser: (index, input, customer, input id, outcome)
        self.pending: list[tuple[int, Any, Customer | None, str | None, ImportOutcome | None]] = []
        self.waiting = 0  # how many of them are customers
        self.ready: list[_Row] = []
        self.seen: set[str] = set()
        # Until a batch meets a stored id, batches are inserted without looking their
        # ids up first (the insert itself refuses a stored id; see _import_batch). A
        # natural key may name a stored customer under another id: never optimistic.
        # The careful path alone is the reference (CRMCORE_NO_FAST_PATHS=1).
        self.fast = fast_paths_enabled()
        self.optimistic = self.fast and not self.matching
        # the pool: started when the record at index parallel_from is read (None: never)
        self.explicit = workers is not None
        self.workers, self.parallel_from = self._plan(workers, total)
        self.pool: NormaliserPool | None = None
        # the backend's work done in the workers (a fast path: the reference writes
        # every row in this process)
        self.preparer = context.import_preparer if self.fast else None
        self.entries: list[_ImportRun._Entry] = []  # the chunk being filled
        self.sending: list[Customer | Mapping[str, Any]] = []  # what of it goes to a worker
        self.flight: deque[tuple[list[_ImportRun._Entry], Future[list[WorkerResult]] | None]]
        self.flight = deque()

    def _plan(self, workers: int | None, total: int | None) -> tuple[int, int | None]:
        """How many workers, and the index of the first record they normalise."""
        if workers == 1:
            return 1, None
        if self.batches is None:
            if workers is not None:
                _warnings_module.warn(
                    f"workers={workers} is ignored: the store's normaliser is not a "
                    "BatchNormaliser (one with check_many), so it runs in this process",
                    RuntimeWarning,
                    stacklevel=5,  # the caller of Store.import_customers
                )
            return 1, None
        if workers is not None:
            return workers, 0
        count = auto_workers()
        if count == 1 or (total is not None and total < AUTO_MIN_RECORDS):
            return 1, None
        # an input of unknown length: one worker until it proves large
        return count, 0 if total is not None else AUTO_MIN_RECORDS

    def __enter__(self) -> _ImportRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            pool.__exit__(exc_type, exc, tb)

    def add(self, index: int, item: Customer | Mapping[str, Any]) -> None:
        """Read one input record; decide it now, or once its chunk is normalised."""
        parallel = self.parallel_from is not None and index >= self.parallel_from
        if parallel and (self.pool is not None or self._open_pool()):
            self._add_to_chunk(index, item)
            return
        customer, record_id, outcome = _read(index, item)
        if self.batches is None:  # normalised as it is read, decided at once
            if outcome is not None:
                self.record([outcome])
                return
            assert customer is not None
            try:
                result: Customer | ValidationError = self.normalise(customer)
            except ValidationError as error:
                result = error
            self._accept(index, item, result, record_id, ())
            return
        if outcome is not None and not self.pending:
            self.record([outcome])  # nothing read earlier is still undecided
            return
        self.pending.append((index, item, customer, record_id, outcome))
        if customer is not None:
            self.waiting += 1
            if self.waiting >= self.chunk:
                self._decide()

    def _open_pool(self) -> bool:
        """Start the workers; decide what the run read before. False: one worker after all."""
        assert self.batches is not None
        if self.pending:
            self._decide()
        self.pool = NormaliserPool.open(
            self.batches,
            self.workers,
            explicit=self.explicit,
            preparer=worker_preparer(self.preparer),
        )
        if self.pool is None:
            self.parallel_from = None
            return False
        return True

    def _add_to_chunk(self, index: int, item: Customer | Mapping[str, Any]) -> None:
        """Put one record into the chunk for the workers (a mapping given its new id)."""
        if isinstance(item, Customer):
            self.sending.append(item)
            self.entries.append((index, item, item.id, None))
        elif isinstance(item, Mapping):
            raw_id = item.get("id")
            sent = item if type(item) is dict and "id" in item else dict(item)
            if "id" not in sent:
                sent["id"] = new_id()  # as from_dict would give it, but here, in input order
            self.sending.append(sent)
            self.entries.append((index, item, raw_id if isinstance(raw_id, str) else None, None))
        else:
            _, record_id, outcome = _read(index, item)
            if not self.entries and not self.flight:
                assert outcome is not None
                self.record([outcome])  # nothing read earlier is still undecided
                return
            self.entries.append((index, item, record_id, outcome))
        if len(self.sending) >= chunk_size(self.batch_size):
            self._send()

    def _send(self) -> None:
        """Send the chunk to the workers (the clock read for it now); collect the oldest."""
        assert self.pool is not None
        entries, self.entries = self.entries, []
        items, self.sending = self.sending, []
        future = self.pool.submit(items, self.now()) if items else None
        self.flight.append((entries, future))
        if len(self.flight) > window(self.workers):
            self._collect()

    def _collect(self) -> None:
        """Decide the oldest chunk in flight, in input order, as its records would be read."""
        entries, future = self.flight.popleft()
        results = iter(NormaliserPool.result(future) if future is not None else ())
        for index, item, record_id, outcome in entries:
            if outcome is not None:
                self.record([outcome])
                continue
            customer, problems, warnings, prepared = next(results)
            result = (
                customer if customer is not None else ValidationError(problems, subject="Customer")
            )
            self._accept(index, item, result, record_id, warnings, prepared)

    def finish(self) -> ImportReport:
        """Decide and write what is left; the report of the whole run."""
        if self.pool is not None:
            if self.entries:
                self._send()
            while self.flight:
                self._collect()
        if self.pending:
            self._decide()
        if self.ready:
            self._write()
        return self.outcomes.report()

    def _decide(self) -> None:
        pending, self.pending, self.waiting = self.pending, [], 0
        customers = [customer for _, _, customer, _, _ in pending if customer is not None]
        normalised = iter(self._check_many(customers))
        for index, item, _, record_id, outcome in pending:
            if outcome is not None:
                self.record([outcome])
            else:
                result, warnings = next(normalised)
                self._accept(index, item, result, record_id, warnings)

    def _check_many(
        self, customers: list[Customer]
    ) -> list[tuple[Customer | ValidationError, tuple[Problem, ...]]]:
        """Each customer normalised by the batch normaliser (or the error refusing it).

        With the findings of severity ``warning`` it made on the way.
        """
        assert self.batches is not None
        return check_batch(self.batches, customers, self.now)

    def _accept(
        self,
        index: int,
        item: Any,
        result: Customer | Ready | ValidationError,
        record_id: str | None,
        warnings: tuple[Problem, ...],
        prepared: Any = None,
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
            gives = not isinstance(item, Customer) and "created_at" in item
            self.ready.append(
                _Row(
                    index=index,
                    raw=item,
                    normalised=result,
                    warnings=warnings,
                    gives_created_at=gives,
                    input_id=record_id,
                    prepared=prepared,
                )
            )
            if len(self.ready) >= self.batch_size:
                self._write()

    def _write(self) -> None:
        batch, self.ready = self.ready, []
        self.record(self._import_batch(batch))

    def _import_batch(self, batch: list[_Row]) -> list[ImportOutcome]:
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
            self.optimistic = (
                self.fast
                and not self.matching
                and all(o.status is ImportStatus.CREATED for o in outcomes)
            )
            return outcomes
        problem = Problem(
            code="storage.conflict",
            path="$",
            message="kept conflicting with concurrent writers; nothing was written, try again",
        )
        return [_rejected(row.index, row.input_id, (problem,)) for row in batch]

    def _created(self, row: _Row, now: Any) -> Customer:
        """The customer a row creates: version 1, stamped now, or with the row's created_at."""
        customer = row.customer
        if row.gives_created_at:
            return replace(customer, version=1, updated_at=max(now, customer.created_at))
        return replace(customer, version=1, created_at=now, updated_at=now)

    def _create_batch(self, batch: list[_Row], now: Any) -> list[ImportOutcome]:
        """Insert a batch of customers none of which is stored; DuplicateRecord if one is."""
        tx = self.begin()
        try:
            template = _change_template(now, self.actor, self.source)
            stamped = getattr(tx, "insert_stamped", None)
            if stamped is not None and all(isinstance(row.normalised, Ready) for row in batch):
                # rows the workers made (a fast path): the backend joins in the version and
                # timestamps _created gives, and builds a model only for a row it cannot
                # write as it came
                stamped([_stamps(row, now) for row in batch])
            else:
                stored = replace_each(
                    [row.customer for row in batch], version=1, created_at=now, updated_at=now
                )
                for position, row in enumerate(batch):
                    if row.gives_created_at:  # a legacy creation time, kept
                        stored[position] = self._created(row, now)
                if any(row.prepared is not None for row in batch):
                    # made by the backend's import_preparer in the workers, for customers
                    # that differ from these only in their version and timestamps
                    tx.insert("customer", stored, prepared=[row.prepared for row in batch])  # type: ignore[call-arg]
                else:
                    tx.insert("customer", stored)
            if self.record_history:
                tx.append_history(
                    [replace(template, customer_id=row.normalised.id, id=new_id()) for row in batch]
                )
            tx.commit()
        except BaseException:
            tx.rollback()
            raise
        created = ImportStatus.CREATED
        return [
            ImportOutcome(
                index=row.index,
                id=row.normalised.id,
                status=created,
                version=1,
                warnings=row.warnings,
            )
            for row in batch
        ]

    def _merged(self, old: Customer, row: _Row, customer: Customer) -> Customer:
        """The stored customer with the row applied, by the import's mode."""
        if self.merge:
            return merge_into(old, customer, row.presence()).renamed_from(old)
        return adopt_ids(old, customer).renamed_from(old)

    def _write_batch(self, batch: list[_Row], now: Any) -> list[ImportOutcome]:
        """Write a batch after looking its ids up: create, update, keep or refuse each."""
        upsert, record_history = self.upsert, self.record_history
        tx = self.begin()
        try:
            existing = tx.get_many("customer", [row.customer.id for row in batch])
            matched = (
                match_by_keys(tx, self.keys, [(r.index, r.customer) for r in batch], existing)
                if self.keys
                else {}
            )
            found: dict[int, Problem] = {}
            if self.duplicates is not None:
                rows = [(row.index, row.customer) for row in batch]
                found = self.duplicates.decide(tx, rows, existing, matched)
            template = _change_template(now, self.actor, self.source)
            inserts: list[Record] = []
            changes: list[ChangeRecord] = []
            outcomes: list[ImportOutcome] = []
            # each stored customer rows of this batch update: the version read, and the
            # latest state (a later row naming it applies to what the earlier made)
            updated: dict[str, tuple[int, Customer]] = {}
            for row in batch:
                index, customer = row.index, row.customer
                target = matched.get(index)
                if isinstance(target, Problem):
                    outcomes.append(_rejected(index, row.input_id, (target,)))
                    continue
                if isinstance(target, Skipped):
                    outcomes.append(_skipped(row, target))
                    continue
                if target is not None:
                    customer = attrs.evolve(customer, id=target)
                old = cast(Customer | None, existing.get(customer.id))
                if customer.id in updated:
                    old = updated[customer.id][1]
                if old is None:
                    stored = self._created(attrs.evolve(row, normalised=customer), now)
                    inserts.append(stored)
                    outcomes.append(
                        ImportOutcome(
                            index=index,
                            id=stored.id,
                            status=ImportStatus.CREATED,
                            version=1,
                            warnings=row.warnings + ((found[index],) if index in found else ()),
                        )
                    )
                    if record_history:
                        changes.append(replace(template, customer_id=stored.id, id=new_id()))
                    continue
                problem = _refused_update("customer", upsert, customer.version, old.version)
                if problem is not None:
                    outcomes.append(_rejected(index, customer.id, (problem,)))
                    continue
                warnings = row.warnings + ((found[index],) if index in found else ())
                if row.gives_created_at and customer.created_at != old.created_at:
                    warnings += (
                        Problem(
                            code="import.created_at_kept",
                            path="$.created_at",
                            message="the stored customer's created_at "
                            f"({old.created_at.isoformat()}) is kept",
                            severity="warning",
                        ),
                    )
                try:
                    candidate = self._merged(old, row, customer)
                except ValidationError as error:
                    outcomes.append(_rejected(index, customer.id, error.problems))
                    continue
                if same_apart_from_bookkeeping(candidate, old):
                    outcomes.append(
                        ImportOutcome(
                            index=index,
                            id=old.id,
                            status=ImportStatus.UNCHANGED,
                            version=old.version,
                            warnings=warnings,
                        )
                    )
                    continue
                in_use = dropped_contact_person_uses(tx, old, candidate)
                if in_use is not None:
                    outcomes.append(_rejected(index, customer.id, (in_use,)))
                    continue
                stored = replace(
                    candidate,
                    version=old.version + 1,
                    created_at=old.created_at,
                    updated_at=max(now, old.created_at),
                )
                updated[stored.id] = (updated.get(stored.id, (old.version,))[0], stored)
                outcomes.append(
                    ImportOutcome(
                        index=index,
                        id=stored.id,
                        status=ImportStatus.UPDATED,
                        version=stored.version,
                        warnings=warnings,
                    )
                )
                if record_history:
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
            if inserts:
                tx.insert("customer", inserts)
            for version, stored in updated.values():
                tx.update("customer", stored, expected_version=version)
            if changes and record_history:
                tx.append_history(changes)
            tx.commit()
            outcomes.sort(key=lambda o: o.index)
            return outcomes
        except BaseException:
            tx.rollback()
            raise


def _stamps(row: _Row, now: Any) -> Stamped:
    """A worker's row with the stamps :meth:`_ImportRun._created` gives its customer."""
    ready = cast(Ready, row.normalised)
    if row.gives_created_at:  # a legacy creation time, kept
        return Stamped(ready, row.prepared, ready.created_at, max(now, ready.created_at))
    return Stamped(ready, row.prepared, now, now)


def _skipped(row: _Row, skip: Skipped) -> ImportOutcome:
    return ImportOutcome(
        index=row.index,
        id=skip.id,
        status=ImportStatus.SKIPPED,
        warnings=(*row.warnings, skip.warning),
    )

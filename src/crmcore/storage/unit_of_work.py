"""Units of work and their repositories: the application's side of a backend transaction.

A :class:`StoreUnitOfWork` holds one backend transaction, begun on first use, and one
repository per record kind of :data:`~crmcore.storage.ports.RECORD_KINDS` (as
``uow.customers``, ``uow.purchases``, ...). Repositories check what they are given,
stamp versions and timestamps, and, for customers, normalise every write and record its
history. They take the time, the normaliser and the history switch from the store's
:class:`~crmcore.storage._context.WriteContext`, passed to them explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, Self, TypeVar, cast

import attrs

from crmcore.errors import (
    ConcurrencyConflict,
    NotFound,
    Problem,
    StorageError,
    UnknownReference,
    ValidationError,
)
from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Complaint,
    Customer,
    Interaction,
    MergeRecord,
    NotDuplicate,
    Purchase,
)
from crmcore.query import Field, Query
from crmcore.query.operands import check_id
from crmcore.query.phone_search import with_phone_digits
from crmcore.query.spec import check_query
from crmcore.storage._arguments import check_batch_size, check_choice
from crmcore.storage._context import WriteContext
from crmcore.storage.history import history_changes, same_apart_from_bookkeeping
from crmcore.storage.ports import (
    RECORD_KINDS,
    CustomerRepository,
    Record,
    RecordKind,
    Repository,
    Transaction,
    UnitOfWork,
)

if TYPE_CHECKING:
    from crmcore.rules.dedupe import MergePlan

__all__ = [
    "DEPENDENT_KINDS",
    "PERSON_DEPENDENT_KINDS",
    "CustomerHasDependents",
    "Dependents",
    "StoreCustomerRepository",
    "StoreRepository",
    "StoreUnitOfWork",
    "dropped_contact_person_uses",
]

R = TypeVar("R", Customer, Interaction, Complaint, Purchase, MergeRecord, NotDuplicate)

DEPENDENT_KINDS: tuple[RecordKind, ...] = tuple(
    kind.name for kind in RECORD_KINDS.values() if "customer_id" in attrs.fields_dict(kind.model)
)
"""The record kinds that refer to a customer by ``customer_id`` (and may name a contact person)."""

Dependents = Literal["refuse", "remove"]
"""What removing a customer does to the records that refer to it (``dependents=``)."""


class CustomerHasDependents(StorageError):
    """A customer was not removed because records refer to it; nothing was changed.

    Attributes:
        customer_id: The customer that was to be removed.
        dependents: How many records of each kind refer to it (``{"purchase": 2}``),
            kinds with none left out.
    """

    code: ClassVar[str] = "storage.has_dependents"

    def __init__(self, customer_id: str, dependents: Mapping[str, int]) -> None:
        self.customer_id = customer_id
        self.dependents = dict(sorted(dependents.items()))
        listed = ", ".join(f"{count} {kind}" for kind, count in self.dependents.items())
        super().__init__(
            f"customer {customer_id!r} has dependent records ({listed}); remove them first, "
            'or pass dependents="remove" to remove them with it'
        )


def unknown_reference(record: Record, customer: Customer | None) -> UnknownReference | None:
    """Why ``record`` may not refer to ``customer`` (the stored one of its ``customer_id``).

    ``None`` when it may: the customer is stored and, when the record names a contact
    person (``contact_person_id``), that person is one of the customer's contact persons.
    """
    customer_id: str = getattr(record, "customer_id")  # noqa: B009 (every dependent kind has it)
    if customer is None:
        return UnknownReference(
            record.kind_name, record.id, field="customer_id", reference=customer_id
        )
    person_id: str | None = getattr(record, "contact_person_id", None)
    if person_id is None:
        return None
    persons = customer.organisation.contact_persons if customer.organisation is not None else ()
    if any(person.id == person_id for person in persons):
        return None
    return UnknownReference(
        record.kind_name, record.id, field="contact_person_id", reference=person_id
    )


PERSON_DEPENDENT_KINDS: tuple[RecordKind, ...] = tuple(
    kind
    for kind in DEPENDENT_KINDS
    if "contact_person_id" in attrs.fields_dict(RECORD_KINDS[kind].model)
)
"""The record kinds that may name one of a customer's contact persons."""


def dropped_contact_person_uses(tx: Transaction, old: Customer, new: Customer) -> Problem | None:
    """The refusal of an update that drops contact persons records still name (else ``None``).

    A contact person that interactions or complaints refer to (``contact_person_id``)
    stays while they do: removing it would leave them naming a person the customer
    no longer has. Asks the backend only when the update drops a contact person.
    """
    kept = {p.id for p in new.organisation.contact_persons} if new.organisation else set()
    dropped = sorted(
        p.id
        for p in (old.organisation.contact_persons if old.organisation else ())
        if p.id not in kept
    )
    if not dropped:
        return None
    named = Query(where=(Field("customer_id") == old.id) & Field("contact_person_id").in_(dropped))
    found = {kind: tx.count(kind, named) for kind in PERSON_DEPENDENT_KINDS}
    found = {kind: count for kind, count in found.items() if count}
    if not found:
        return None
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(found.items()))
    return Problem(
        code="storage.contact_person_in_use",
        path="$.organisation.contact_persons",
        message=f"contact persons {', '.join(dropped)} are still named by records ({listed}); "
        "point those records elsewhere first",
    )


class StoreRepository(Generic[R]):
    """A repository of one kind of record inside a :class:`StoreUnitOfWork`.

    Args:
        uow: The unit of work whose transaction every call runs in.
        kind: The record kind, as the backend receives it.
        model: The model class of its records.
        context: The store's collaborators (its clock, normaliser, history switch).
    """

    def __init__(
        self, uow: StoreUnitOfWork, kind: RecordKind, model: type[R], *, context: WriteContext
    ) -> None:
        self._uow = uow
        self._kind = kind
        self._model: type[R] = model
        self._now = context.now
        self._search_region = context.search_region
        self._refers = kind in DEPENDENT_KINDS

    def _check_references(self, record: R) -> None:
        if not self._refers:
            return
        customer_id: str = getattr(record, "customer_id")  # noqa: B009
        tx, known = self._uow._tx, self._uow._known_customers
        if getattr(record, "contact_person_id", None) is None:
            if customer_id in known:  # stored, as this transaction already found
                return
            # whether it is stored is all that is needed: a count reads no document
            if tx.count("customer", Query(where=Field("id") == customer_id)):
                known.add(customer_id)
                return
            customer = None
        else:
            customer = cast(Customer | None, tx.get("customer", customer_id))
        error = unknown_reference(record, customer)
        if error is not None:
            if record.version and self._uow._tx.get(self._kind, record.id) is None:
                raise NotFound(self._kind, record.id)  # an update of a missing record
            raise error

    def _check(self, record: R) -> None:
        if not isinstance(record, self._model):
            from crmcore.errors import WrongType

            hint = (
                " (build one with crmcore.serialization.from_dict)"
                if isinstance(record, dict)
                else ""
            )
            raise WrongType(f"expected a {self._model.__name__}, got {type(record).__name__}{hint}")

    def get(self, record_id: str) -> R:
        """The record with ``record_id``; raises :class:`NotFound`."""
        check_id(record_id, subject=self._model.__name__)
        record = self._uow._tx.get(self._kind, record_id)
        if record is None:
            raise NotFound(self._kind, record_id)
        return cast(R, record)

    def _stamp_new(self, record: R) -> R:
        now = self._now()
        plain: Record = record
        if isinstance(plain, Customer):
            stamped: Record = attrs.evolve(plain, version=1, created_at=now, updated_at=now)
        else:
            stamped = attrs.evolve(plain, version=1, created_at=now)
        return cast(R, stamped)

    def add(self, record: R) -> R:
        """Add a new record (version 0); returns it as stored, with version 1.

        A purchase, interaction or complaint must refer to a stored customer (one added
        earlier in the same unit of work counts), and a ``contact_person_id`` to one of
        that customer's contact persons; otherwise :class:`~crmcore.errors.UnknownReference`
        is raised and nothing is written. :meth:`update` checks the same.
        """
        self._check(record)
        if record.version != 0:
            raise ValidationError(
                [
                    Problem(
                        code="record.not_new",
                        path="$.version",
                        message=f"a new record has version 0, not {record.version}; "
                        "use update() to save a stored record",
                    )
                ],
                subject=self._model.__name__,
            )
        self._check_references(record)
        stored = self._stamp_new(record)
        self._uow._tx.insert(self._kind, [stored])
        return stored

    def update(self, record: R) -> R:
        """Save a record read at ``record.version``; returns it with version + 1."""
        self._check(record)
        self._check_references(record)
        stored = attrs.evolve(record, version=record.version + 1)
        self._uow._tx.update(self._kind, stored, expected_version=record.version)
        return stored

    def remove(self, record: R) -> None:
        """Remove a record read at ``record.version``."""
        self._check(record)
        self._uow._tx.delete(self._kind, record.id, expected_version=record.version)

    def _checked(self, query: object) -> Query:
        """``query`` checked against the model, phone-shaped searches read as numbers."""
        checked = check_query(query)
        checked.validate(self._model)
        return with_phone_digits(checked, self._search_region)

    def find(self, query: Query) -> list[R]:
        """One page of records matching ``query`` (checked against the model first)."""
        return cast(list[R], self._uow._tx.query(self._kind, self._checked(query)))

    def count(self, query: Query | None = None) -> int:
        """How many records match ``query``'s filter (all when ``None``)."""
        return self._uow._tx.count(self._kind, self._checked(Query() if query is None else query))

    def stream(self, *, batch_size: int = 1000) -> Iterator[R]:
        """Every record, ordered by id, fetched ``batch_size`` at a time."""
        check_batch_size(batch_size)
        return cast(Iterator[R], self._uow._tx.scan(self._kind, batch_size=batch_size))


class StoreCustomerRepository(StoreRepository[Customer]):
    """Customers: normalised on every write, with their change history."""

    def __init__(
        self,
        uow: StoreUnitOfWork,
        kind: RecordKind,
        model: type[Customer],
        *,
        context: WriteContext,
    ) -> None:
        super().__init__(uow, kind, model, context=context)
        self._normalise = context.normalise
        self._record_history = context.record_history

    def _history(
        self, operation: ChangeOperation, old: Customer | None, new: Customer | None, version: int
    ) -> None:
        if not self._record_history:
            return
        subject = new if new is not None else old
        assert subject is not None
        change = ChangeRecord(
            customer_id=subject.id,
            operation=operation,
            at=self._now(),
            version=version,
            actor=self._uow.actor,
            source=self._uow.source,
            changes=history_changes(old, new),
        )
        self._uow._tx.append_history([change])

    def add(self, record: Customer) -> Customer:
        """Normalise and add a new customer; returns it as stored, with version 1."""
        self._check(record)
        stored = super().add(self._normalise(record))
        self._uow._known_customers.add(stored.id)
        self._history(ChangeOperation.CREATED, None, stored, stored.version)
        return stored

    def update(self, record: Customer) -> Customer:
        """Normalise and save a customer read at ``record.version``; returns version + 1.

        When the normalised customer equals the stored one apart from ``version``,
        ``created_at`` and ``updated_at``, nothing is written (no new version, no
        history record) and the stored customer is returned as it is.
        """
        self._check(record)
        tx = self._uow._tx
        old = tx.get("customer", record.id)
        if old is None:
            raise NotFound("customer", record.id)
        if old.version != record.version:
            raise ConcurrencyConflict(
                "customer",
                record.id,
                expected_version=record.version,
                actual_version=old.version,
            )
        # a display name derived from the stored name follows a rename
        normal = self._normalise(record.renamed_from(cast(Customer, old)))
        if same_apart_from_bookkeeping(normal, cast(Customer, old)):
            return cast(Customer, old)  # a no-op: no new version, no empty history record
        in_use = dropped_contact_person_uses(tx, cast(Customer, old), normal)
        if in_use is not None:
            raise ValidationError([in_use], subject="Customer")
        now = self._now()
        stored = attrs.evolve(
            normal,
            version=record.version + 1,
            created_at=old.created_at,
            updated_at=max(now, old.created_at),
        )
        tx.update("customer", stored, expected_version=record.version)
        self._history(ChangeOperation.UPDATED, cast(Customer, old), stored, stored.version)
        return stored

    def remove(self, record: Customer, *, dependents: Dependents = "refuse") -> None:
        """Remove a customer read at ``record.version``; its history is kept.

        Args:
            record: The customer, as read.
            dependents: What happens to the purchases, interactions and complaints
                that refer to it. ``"refuse"`` (the default): if there are any, raise
                :class:`CustomerHasDependents` with how many of each kind, and change
                nothing. ``"remove"``: remove them too, in this unit of work (so they
                come back if it is rolled back).
        """
        self._check(record)
        check_choice("dependents", dependents, ("refuse", "remove"))
        tx = self._uow._tx
        old = tx.get("customer", record.id)
        refers = Query(where=Field("customer_id") == record.id)
        if dependents == "refuse":
            # one record is enough to refuse: only then are they counted, for the message
            first = Query(where=refers.where, limit=1)
            found: dict[str, int] = {
                kind: tx.count(kind, refers) for kind in DEPENDENT_KINDS if tx.query(kind, first)
            }
            if found:
                raise CustomerHasDependents(record.id, found)
        else:
            for kind in DEPENDENT_KINDS:
                for dependent in tx.query(kind, refers):
                    tx.delete(kind, dependent.id, expected_version=dependent.version)
        super().remove(record)
        self._uow._known_customers.discard(record.id)
        self._history(
            ChangeOperation.REMOVED, cast(Customer, old) or record, None, record.version + 1
        )

    def get(self, record_id: str) -> Customer:
        """The customer with ``record_id``.

        Raises :class:`~crmcore.errors.CustomerMerged` (a :class:`NotFound` naming the
        survivor) when the id was merged away, :class:`NotFound` when it is not stored;
        ``uow.resolve_customer_id`` gives the customer an id stands for now.
        """
        check_id(record_id, subject="Customer")
        record = self._uow._tx.get("customer", record_id)
        if record is None:
            from crmcore.storage.merging import _merged_error

            raise _merged_error(self._uow._tx, record_id)
        return cast(Customer, record)

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Every recorded change to a customer, oldest first (empty if none)."""
        return self._uow._tx.history(check_id(customer_id, subject="Customer"))


class StoreUnitOfWork:
    """A business transaction across all repositories (a :class:`~crmcore.storage.UnitOfWork`).

    The backend transaction starts on first use; :meth:`commit` ends it and the next
    use starts a new one. Leaving the ``with`` block rolls back whatever was not
    committed, also on an exception. Made by :meth:`crmcore.storage.Store.unit_of_work`.

    It has one repository per record kind of :data:`~crmcore.storage.ports.RECORD_KINDS`,
    under the kind's ``repository`` name; a kind with ``history`` gets a
    :class:`StoreCustomerRepository`, every other kind a :class:`StoreRepository`.

    Attributes:
        actor: Who makes the changes (recorded in history).
        source: Where the data comes from (recorded in history).
        customers: Customers, normalised on every write, with their history.
        interactions: Interactions with customers.
        complaints: Complaints.
        purchases: Purchases.
        merges: The lineage of merges (:class:`~crmcore.models.MergeRecord`), written
            by :meth:`apply_merge`.
        not_duplicates: Stored "not a duplicate" decisions
            (:class:`~crmcore.models.NotDuplicate`), written by
            :meth:`crmcore.storage.Store.mark_not_duplicate`.
    """

    customers: StoreCustomerRepository
    interactions: StoreRepository[Interaction]
    complaints: StoreRepository[Complaint]
    purchases: StoreRepository[Purchase]
    merges: StoreRepository[MergeRecord]
    not_duplicates: StoreRepository[NotDuplicate]

    def __init__(self, context: WriteContext, *, actor: str | None, source: str | None) -> None:
        self._begin = context.begin
        self._context = context
        self.actor = actor
        self.source = source
        self._current: Transaction | None = None
        # customers this transaction found stored (or added): records may refer to them
        self._known_customers: set[str] = set()
        for kind in RECORD_KINDS.values():
            repository = StoreCustomerRepository if kind.history else StoreRepository
            setattr(
                self,
                kind.repository,
                repository(self, kind.name, kind.model, context=context),  # type: ignore[arg-type]
            )

    @property
    def _tx(self) -> Transaction:
        if self._current is None:
            self._current = self._begin()
        return self._current

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def apply_merge(self, plan: MergePlan) -> MergeRecord:
        """Apply a merge plan in this unit of work; returns the stored merge record.

        :mod:`crmcore.storage.merging` says what it writes. Nothing is committed until
        :meth:`commit`; when it raises (a :class:`~crmcore.errors.ConcurrencyConflict`
        for a customer changed since the plan was made, ...) the unit of work is rolled
        back, so nothing of it is written.
        """
        from crmcore.storage.merging import apply_merge

        return self._all_or_nothing(lambda: apply_merge(self, plan))

    def undo_merge(self, merge_id: str) -> MergeRecord:
        """Undo a merge in this unit of work; returns its record, marked undone.

        Raises :class:`~crmcore.errors.MergeChangedSince` or
        :class:`~crmcore.errors.MergeAlreadyUndone` (and rolls the unit of work back,
        like :meth:`apply_merge`).
        """
        from crmcore.storage.merging import undo_merge

        return self._all_or_nothing(lambda: undo_merge(self, merge_id))

    def resolve_customer_id(self, customer_id: str) -> str:
        """The id of the stored customer ``customer_id`` stands for (merges followed)."""
        from crmcore.storage.merging import resolve_customer_id

        return resolve_customer_id(self._tx, customer_id)

    def _all_or_nothing(self, write: Callable[[], MergeRecord]) -> MergeRecord:
        try:
            return write()
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        """Save every change made since the last commit, atomically."""
        if self._current is None:
            return
        tx, self._current = self._current, None
        self._known_customers.clear()
        tx.commit()

    def rollback(self) -> None:
        """Discard every uncommitted change."""
        if self._current is None:
            return
        tx, self._current = self._current, None
        self._known_customers.clear()
        tx.rollback()


if TYPE_CHECKING:  # static proof that the classes implement the port's protocols

    def _is_unit_of_work(uow: StoreUnitOfWork) -> UnitOfWork:
        return uow

    def _is_customer_repository(repo: StoreCustomerRepository) -> CustomerRepository:
        return repo

    def _is_repository(repo: StoreRepository[Purchase]) -> Repository[Purchase]:
        return repo

"""The storage port: what a backend implements, and what applications use.

Two layers, as in SQLAlchemy's dialect and engine:

* **Backend SPI** (:class:`Backend`, :class:`Transaction`): the small surface a storage
  author implements: versioned get/insert/update/delete of whole records by kind,
  a query by :class:`crmcore.query.Query`, a scan, and an append-only history log,
  all inside a transaction that commits all-or-nothing.
* **Application API** (:class:`UnitOfWork`, :class:`CustomerRepository`,
  :class:`Repository`): implemented once by crmcore on top of any backend, so every
  backend gets the same normalisation pipeline, version checks, timestamps, change
  history and bulk-import reports.

Record kinds are the model classes' ``kind_name``: ``"customer"``, ``"interaction"``,
``"complaint"``, ``"purchase"``, ``"merge"`` (the lineage of merged customers),
``"not_duplicate"`` (reviewers' decisions that two customers are not the same).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self, TypeVar, runtime_checkable

import attrs

from crmcore.models import (
    ChangeRecord,
    Complaint,
    Customer,
    Interaction,
    MergeRecord,
    NotDuplicate,
    Purchase,
)

if TYPE_CHECKING:
    from crmcore.query import Query
    from crmcore.rules.dedupe import BlockingSpec, Candidates
    from crmcore.rules.segmentation import (
        CurrencySummary,
        ParetoResult,
        ParetoSpec,
        Period,
        PyramidResult,
        PyramidSpec,
        RepeatSummary,
        RfmResult,
        RfmSpec,
    )
    from crmcore.rules.verification import NormalisationResult

__all__ = [
    "RECORD_KINDS",
    "RECORD_TYPES",
    "Backend",
    "Capabilities",
    "CustomerRepository",
    "Record",
    "RecordKind",
    "RecordKindInfo",
    "Repository",
    "Transaction",
    "UnitOfWork",
]

RecordKind = Literal["customer", "interaction", "complaint", "purchase", "merge", "not_duplicate"]
"""The kinds of record a backend stores."""

Record = Customer | Interaction | Complaint | Purchase | MergeRecord | NotDuplicate
"""Any record a backend stores."""


@attrs.frozen(kw_only=True)
class RecordKindInfo:
    """One kind of record: what everything that handles record kinds derives from.

    Attributes:
        name: The kind's name (the model's ``kind_name``), as backends receive it.
        model: The model class of its records.
        repository: The unit of work's attribute holding its repository
            (``uow.customers``).
        history: Whether writes are normalised and recorded in the change history
            (customers); the unit of work gives such a kind the customer repository.
    """

    name: RecordKind
    model: type[Record]
    repository: str
    history: bool = False


RECORD_KINDS: dict[RecordKind, RecordKindInfo] = {
    kind.name: kind
    for kind in (
        RecordKindInfo(name="customer", model=Customer, repository="customers", history=True),
        RecordKindInfo(name="interaction", model=Interaction, repository="interactions"),
        RecordKindInfo(name="complaint", model=Complaint, repository="complaints"),
        RecordKindInfo(name="purchase", model=Purchase, repository="purchases"),
        RecordKindInfo(name="merge", model=MergeRecord, repository="merges"),
        RecordKindInfo(name="not_duplicate", model=NotDuplicate, repository="not_duplicates"),
    )
}
"""Every record kind, in a stable order: the one table of record kinds.

:data:`RECORD_TYPES`, the unit of work's repositories and the SQL schema's tables
derive from it; :data:`RecordKind` must list the same names (a test checks).
"""

RECORD_TYPES: dict[RecordKind, type[Record]] = {
    name: kind.model for name, kind in RECORD_KINDS.items()
}
"""The model class of each record kind."""

R = TypeVar("R", Customer, Interaction, Complaint, Purchase, MergeRecord, NotDuplicate)


@attrs.frozen(kw_only=True)
class Capabilities:
    """What a backend supports; the conformance kit skips tests for what it does not.

    Every flag must be declared: there are no defaults, so a backend states what it
    promises rather than inheriting a promise by accident.

    Attributes:
        persistent: Data survives closing and reopening the backend.
        concurrent_writers: Several transactions may be open at once, from several
            threads (or processes): each is isolated from the others' uncommitted
            writes, and stale writes are detected across them. Without it, the store
            runs one transaction at a time. Version checks (``expected_version``) are
            required either way.
    """

    persistent: bool
    concurrent_writers: bool


@runtime_checkable
class Transaction(Protocol):
    """One backend transaction. Nothing is visible to others before :meth:`commit`.

    Records passed in already carry the version they are stored with; the backend
    stores and returns them exactly: the same serialised form (UTC offsets, decimal
    scale and text code points kept), not only ``get(...) == record``.

    Lifecycle: used once, by one thread at a time. After :meth:`commit` (whether it
    succeeded or raised) or :meth:`rollback` the transaction is finished; calling
    :meth:`rollback` again is a no-op, anything else is undefined. Reads see committed
    data plus this transaction's own writes and removes (at least read committed),
    never another transaction's uncommitted writes.

    The backend checks versions and ids itself (the store does not): ``insert`` of an
    existing id, and ``update``/``delete`` at a stale ``expected_version``, fail either
    at the call or at :meth:`commit`, also when another transaction caused it.
    docs/writing-a-backend.md states the whole contract; ``crmcore.testing`` proves it.
    """

    def get(self, kind: RecordKind, record_id: str) -> Record | None:
        """The stored record of ``kind`` with ``record_id``, or ``None``."""
        ...

    def get_many(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
        """The stored records among ``record_ids``, by id (missing ids are absent)."""
        ...

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        """Insert new records, all or none.

        Raises :class:`crmcore.errors.DuplicateRecord` (here or at :meth:`commit`) if an
        id is stored, already written in this transaction, or repeated in ``records``.
        """
        ...

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        """Replace a record whose stored version is ``expected_version``.

        Raises :class:`crmcore.errors.ConcurrencyConflict` (and changes nothing) if the
        stored version differs, and :class:`crmcore.errors.NotFound` if there is none.
        """
        ...

    def delete(self, kind: RecordKind, record_id: str, *, expected_version: int) -> None:
        """Delete a record whose stored version is ``expected_version`` (same errors as update)."""
        ...

    def query(self, kind: RecordKind, query: Query) -> list[Record]:
        """One page of records matching ``query``, in its order, after its cursor.

        Must return exactly what :meth:`crmcore.query.Query.apply` returns over all
        stored records of ``kind``.
        """
        ...

    def count(self, kind: RecordKind, query: Query) -> int:
        """How many records match ``query``'s filter (ignoring order, cursor and limit)."""
        ...

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        """Every record of ``kind`` ordered by id, fetched ``batch_size`` at a time."""
        ...

    def append_history(self, records: Sequence[ChangeRecord]) -> None:
        """Append change records; they commit or roll back with the transaction."""
        ...

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Change records of one customer, oldest first (by ``at``, then ``version``)."""
        ...

    def commit(self) -> None:
        """Make every change in this transaction durable and visible, all or nothing.

        Raises :class:`crmcore.errors.ConcurrencyConflict` or
        :class:`crmcore.errors.DuplicateRecord` when another transaction committed a
        conflicting change first, :class:`crmcore.errors.TransientStorageError` when a
        retry may succeed, :class:`crmcore.errors.StorageError` otherwise; in every case
        nothing of the transaction (records of any kind, change records) was applied.
        """
        ...

    def rollback(self) -> None:
        """Discard every change in this transaction (a no-op once it is finished)."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A storage backend: a factory of transactions over one database.

    ``capabilities`` declares every :class:`Capabilities` flag. With
    ``concurrent_writers`` several transactions from :meth:`begin` may be open at once,
    in several threads.
    """

    capabilities: Capabilities

    def begin(self) -> Transaction:
        """Start a new transaction."""
        ...

    def close(self) -> None:
        """Release connections and files; the backend is unusable afterwards."""
        ...


class Repository(Protocol[R]):
    """The application's view of one kind of record inside a unit of work."""

    def get(self, record_id: str) -> R:
        """The record with ``record_id``; raises :class:`crmcore.errors.NotFound`."""
        ...

    def add(self, record: R) -> R:
        """Add a new record (version 0); returns it as stored, with version 1."""
        ...

    def update(self, record: R) -> R:
        """Save a changed record read at ``record.version``; returns it with version + 1.

        Raises :class:`crmcore.errors.ConcurrencyConflict` if someone else saved it since.
        """
        ...

    def remove(self, record: R) -> None:
        """Remove a record read at ``record.version`` (same conflict rule as update)."""
        ...

    def find(self, query: Query) -> list[R]:
        """One page of records matching ``query``."""
        ...

    def count(self, query: Query | None = None) -> int:
        """How many records match ``query`` (all records when ``None``)."""
        ...

    def stream(self, *, batch_size: int = 1000) -> Iterator[R]:
        """Every record, ordered by id, without loading them all at once."""
        ...


class CustomerRepository(Repository[Customer], Protocol):
    """Customers, with their change history."""

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Every recorded change to a customer, oldest first."""
        ...


class UnitOfWork(Protocol):
    """A business transaction across all repositories.

    Use it as a context manager. Nothing is saved without :meth:`commit`; leaving the
    block without committing, or with an exception, rolls back. A commit is
    all-or-nothing across repositories.
    """

    @property
    def customers(self) -> CustomerRepository:
        """Customers, with their contact points, persons and change history."""
        ...

    @property
    def interactions(self) -> Repository[Interaction]:
        """Interactions with customers."""
        ...

    @property
    def complaints(self) -> Repository[Complaint]:
        """Complaints."""
        ...

    @property
    def purchases(self) -> Repository[Purchase]:
        """Purchases."""
        ...

    @property
    def merges(self) -> Repository[MergeRecord]:
        """The lineage of merges (written by :meth:`crmcore.storage.Store.merge`)."""
        ...

    @property
    def not_duplicates(self) -> Repository[NotDuplicate]:
        """Stored "not a duplicate" decisions (:meth:`crmcore.storage.Store.mark_not_duplicate`)."""
        ...

    def __enter__(self) -> Self:
        """Begin the unit of work."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self) -> None:
        """Save every change made in this unit of work, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every uncommitted change."""
        ...


# --------------------------------------------------------------------------- extension points
# What an application plugs into a Store: its clock and its normaliser. Typed protocols,
# satisfied structurally (crmcore's NormalisationPipeline is both normalisers).

__all__ += ["BatchNormaliser", "Clock", "Normaliser"]


@runtime_checkable
class Clock(Protocol):
    """The store's source of the current time: called with no arguments.

    It must return an **aware** :class:`datetime.datetime` (``datetime.now(datetime.UTC)``
    is the default). Every timestamp the store writes (``created_at``, ``updated_at``,
    a change record's ``at``) and the ``now=`` a normaliser judges against come from it.
    A naive time is refused with a :class:`crmcore.errors.ValidationError` wherever it
    is used: by the model it would be stored in, by the change record, and by the
    default normaliser (``datetime.naive``), so an import reports each record rejected.
    """

    def __call__(self) -> dt.datetime:
        """Return the current time, timezone-aware."""
        ...


@runtime_checkable
class Normaliser(Protocol):
    """Turns a customer into its normal form; raises :class:`ValidationError` to reject it.

    The store calls it on every write path (add, update, import) with the write's time
    from its :class:`Clock` as ``now``, so plausibility rules (a birthday in the future)
    judge the write's own time. It must return a :class:`~crmcore.models.Customer`.

    A plain function taking only the customer is still accepted by
    :class:`~crmcore.storage.Store` (the earlier form): it is called without the time.
    """

    def __call__(self, customer: Customer, *, now: dt.datetime) -> Customer:
        """Return ``customer`` normalised, or raise ``ValidationError``."""
        ...


@runtime_checkable
class BatchNormaliser(Normaliser, Protocol):
    """A :class:`Normaliser` that can also normalise many customers in one call.

    Imports hand it each batch (``batch_size`` records read) instead of calling it once
    per record. ``check_many(customers, now=t)[i]`` must describe what calling it on
    ``customers[i]`` with ``now=t`` does: the normalised customer when ``ok``, and the
    error findings (``errors``) the call would raise otherwise. A subclass that changes
    what calling it does must change ``check_many`` too.
    :class:`crmcore.rules.verification.NormalisationPipeline` is one.
    """

    def check_many(
        self, customers: Sequence[Customer], *, now: dt.datetime
    ) -> Sequence[NormalisationResult]:
        """Each customer's normalisation result, in input order."""
        ...


__all__ += ["PurchaseAggregates"]


@runtime_checkable
class PurchaseAggregates(Protocol):
    """Optional: a transaction that computes purchase summaries and RFM where the data is.

    A backend's transaction may implement these to answer
    :mod:`crmcore.storage.segments` inside its database. Each returns exactly what the
    pure rule of :mod:`crmcore.rules.segmentation` returns over every purchase the
    transaction sees, or ``None`` when it cannot answer that call (a time zone it does
    not handle, a basis it does not compute); the store then runs the pure rule over a
    streamed read. A backend that implements none of this gets that fallback always.
    """

    def purchase_summaries(self, *, as_of: dt.datetime) -> tuple[CurrencySummary, ...] | None:
        """Every customer's currency summary up to ``as_of`` (``summarise_purchases``)."""
        ...

    def repeat_summaries(
        self, *, as_of: dt.datetime, period: Period, tz: str
    ) -> tuple[RepeatSummary, ...] | None:
        """The repeat-purchase summaries (``repeat_summaries``), or ``None``."""
        ...

    def rfm(self, spec: RfmSpec, *, as_of: dt.datetime) -> RfmResult | None:
        """``rfm(spec, summarise_purchases(purchases, as_of=as_of))``, or ``None``."""
        ...


__all__ += ["DedupeCandidates"]


@runtime_checkable
class DedupeCandidates(Protocol):
    """Optional: a transaction that finds duplicate candidates where the customers are.

    A backend's transaction may implement this to run the blocking step of
    :mod:`crmcore.storage.dedupe` inside its database. :meth:`dedupe_candidates`
    returns exactly :func:`crmcore.rules.dedupe.candidate_pairs` over every customer's
    :func:`~crmcore.rules.dedupe.blocking_keys` under ``spec``, or ``None`` when it
    cannot (its keys are not indexed, a phone region it does not hold); the store then
    blocks over a streamed read. A backend without it gets that fallback always.
    """

    def dedupe_candidates(self, spec: BlockingSpec) -> Candidates | None:
        """The candidate pairs and blocking report of every customer, or ``None``."""
        ...

    def customer_ids(self) -> list[str]:
        """Every customer's id, in code point order."""
        ...


__all__ += ["MergedIdLookup"]


@runtime_checkable
class MergedIdLookup(Protocol):
    """Optional: a transaction that finds the merge that removed a customer id by an index.

    :meth:`merged_into` returns the survivor's id and the merge's id of the latest
    standing (not undone) :class:`~crmcore.models.MergeRecord` whose ``merged_ids``
    hold ``customer_id`` (latest by ``at``, then id), or ``None``: exactly what a query
    of every merge record would find. The store resolves merged-away ids with it when
    the change history does not say; a backend without it gets that query.
    """

    def merged_into(self, customer_id: str) -> tuple[str, str] | None:
        """``(survivor_id, merge_id)`` of the standing merge that removed the id, or ``None``."""
        ...


__all__ += ["TierAggregates"]


@runtime_checkable
class TierAggregates(Protocol):
    """Optional: a transaction that computes the value pyramid and Pareto where the data is.

    Like :class:`PurchaseAggregates`: each returns exactly what the pure rule returns
    over the summaries of every purchase the transaction sees
    (``value_pyramid(spec, summarise_purchases(...))``, ``pareto(...)``), or ``None``
    when it cannot answer that call; the store then runs the rule.
    """

    def value_pyramid(self, spec: PyramidSpec, *, as_of: dt.datetime) -> PyramidResult | None:
        """The value pyramid of the purchases up to ``as_of``, or ``None``."""
        ...

    def pareto(self, spec: ParetoSpec, *, as_of: dt.datetime) -> tuple[ParetoResult, ...] | None:
        """Pareto analysis of the purchases up to ``as_of`` per currency, or ``None``."""
        ...

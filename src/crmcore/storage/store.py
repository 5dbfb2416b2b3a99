"""The application API, implemented once on top of any backend.

:class:`Store` wraps a :class:`~crmcore.storage.ports.Backend` and gives every
backend the same behaviour: units of work that roll back unless committed,
version checks, timestamps from an injectable clock, the customer normalisation
pipeline on every write path, change history, and bulk import with a report.

The parts live in modules of their own, all re-exported by :mod:`crmcore.storage`
(and, for earlier imports, by this module): units of work and repositories in
:mod:`crmcore.storage.unit_of_work`, change history in :mod:`crmcore.storage.history`,
bulk import in :mod:`crmcore.storage.imports`, the typed extension points
(:class:`~crmcore.storage.ports.Clock`, :class:`~crmcore.storage.ports.Normaliser`,
:class:`~crmcore.storage.ports.BatchNormaliser`) in :mod:`crmcore.storage.ports`.

>>> from crmcore.models import Customer
>>> from crmcore.storage import connect
>>> with connect("memory://") as store:
...     with store.unit_of_work(actor="docs") as uow:
...         saved = uow.customers.add(Customer.person_named(family="张", given="伟"))
...         uow.commit()
...     with store.unit_of_work() as uow:
...         uow.customers.get(saved.id).version
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from crmcore.models import Customer, MergeRecord, NotDuplicate, utc_now
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import imports as _imports
from crmcore.storage._arguments import check_batch_size
from crmcore.storage._context import NormaliserArg, WriteContext, normalising_step
from crmcore.storage.history import (
    customer_lives,
    customer_versions,
    diff_customers,
    history_changes,
)
from crmcore.storage.imports import (
    ImportMode,
    ImportOutcome,
    ImportReport,
    ImportStatus,
    MatchKey,
    OnDuplicate,
)
from crmcore.storage.ports import (
    Backend,
    BatchNormaliser,
    Capabilities,
    Clock,
    Normaliser,
    Record,
    RecordKind,
)
from crmcore.storage.unit_of_work import (
    StoreCustomerRepository,
    StoreRepository,
    StoreUnitOfWork,
)

__all__ = [
    "DEFAULT_NORMALISER",
    "Clock",
    "ImportMode",
    "ImportOutcome",
    "ImportReport",
    "ImportStatus",
    "MatchKey",
    "Normaliser",
    "Store",
    "StoreCustomerRepository",
    "StoreRepository",
    "StoreUnitOfWork",
    "customer_lives",
    "customer_versions",
    "diff_customers",
    "history_changes",
]

DEFAULT_NORMALISER = NormalisationPipeline()
"""The normaliser a store runs unless told otherwise: the verification rules' default pipeline."""


def _default_region(normaliser: object) -> str | None:
    """The region a normaliser reads numbers in by default (its ``default_region``)."""
    region = getattr(normaliser, "default_region", None)
    return region if isinstance(region, str) else None


class Store:
    """crmcore's storage API over any backend.

    Args:
        backend: The backend holding the data.
        normaliser: Applied to every customer on every write path (add, update,
            import); may raise :class:`ValidationError` to reject it. A
            :class:`~crmcore.storage.Normaliser`: called as ``normaliser(customer,
            now=...)`` with the store clock's time; a function taking only the
            customer is also accepted, and called without the time. When it is a
            :class:`~crmcore.storage.BatchNormaliser`, imports hand it each batch
            at once (``check_many``). Defaults to :data:`DEFAULT_NORMALISER`, the one
            :class:`crmcore.rules.verification.NormalisationPipeline` (phones to
            E.164, emails, names and addresses to their normal form). Pass a
            configured pipeline (``NormalisationPipeline(default_region="CN")``), or
            ``None`` to store customers exactly as given (for storage tests and
            benchmarks; nothing is then normalised).
        clock: A :class:`~crmcore.storage.Clock`: returns the current aware
            datetime; used for timestamps and history.
        history: Record change history (default). Turning it off is for
            benchmarks and one-off migrations only.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        normaliser: NormaliserArg | None = DEFAULT_NORMALISER,
        clock: Clock | None = None,
        history: bool = True,
    ) -> None:
        self._backend = backend
        now: Clock = clock if clock is not None else utc_now
        self._context = WriteContext(
            begin=backend.begin,
            now=now,
            normalise=normalising_step(normaliser, now),
            batch_normaliser=normaliser if isinstance(normaliser, BatchNormaliser) else None,
            record_history=history,
            search_region=_default_region(normaliser),
            import_preparer=getattr(backend, "import_preparer", None),
        )

    @property
    def backend(self) -> Backend:
        """The backend this store runs on."""
        return self._backend

    @property
    def capabilities(self) -> Capabilities:
        """The backend's capabilities."""
        return self._backend.capabilities

    def unit_of_work(
        self, *, actor: str | None = None, source: str | None = None
    ) -> StoreUnitOfWork:
        """A new unit of work; use it as a context manager and call ``commit()``."""
        return StoreUnitOfWork(self._context, actor=actor, source=source)

    def stream_customers(self, *, batch_size: int = 1000) -> Iterator[Customer]:
        """Every customer, ordered by id, ``batch_size`` at a time, in one read transaction."""
        check_batch_size(batch_size)
        tx = self._backend.begin()
        try:
            # yield from: no Python-level step (nor cast call) per streamed customer
            yield from cast(Iterator[Customer], tx.scan("customer", batch_size=batch_size))
        finally:
            tx.rollback()

    def import_customers(
        self,
        records: Iterable[Customer | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        actor: str | None = None,
        source: str | None = None,
        upsert: bool = True,
        mode: ImportMode = "merge",
        match_on: Sequence[str | MatchKey] | str | None = None,
        on_outcome: Callable[[ImportOutcome], None] | None = None,
        workers: int | None = None,
        on_duplicate: OnDuplicate = "create",
        duplicate_model: MatchModel | None = None,
        duplicate_threshold: float = 0.9,
    ) -> ImportReport:
        """Create and update many customers, batched, with one outcome per input record.

        Mappings are structured with :func:`crmcore.serialization.from_dict`; every
        customer goes through the normaliser. A customer whose id is not stored is
        created (version 1). One whose id is stored is updated when ``upsert`` (the
        default), or left ``unchanged`` when the result equals the stored one apart
        from version and timestamps; an input with ``version`` > 0 claims to be based on
        that version and is rejected (``storage.conflict``) when the stored one differs;
        with ``upsert=False`` a stored id is rejected (``storage.duplicate``). An id
        repeated in the input is rejected (``import.duplicate_id``).

        ``mode`` says how a stored customer is updated. ``"merge"`` (the default, for
        feeds): the fields the row has change, the ones it lacks stay; phones, emails,
        facts, identifiers and the other contact points merge by identity (E.164
        number, normalised email, fact category and key, ...), tags are united
        (docs/storage.md, "Merging"). ``"replace"``: the row replaces the stored
        customer (contact points it repeats keep their stored ids).

        ``match_on`` names natural keys that find the stored customer of a row whose id
        is not stored: ``"phone"``, ``"email"``, ``"identifier:<kind>"`` or
        ``"identifier:<kind>:<issuer>"`` (or :class:`~crmcore.storage.MatchKey`), tried
        in order, each with one query per batch. A key naming two stored customers
        rejects the row (``import.match_ambiguous``).

        ``on_duplicate`` says what a row whose id is not stored (and that ``match_on``
        did not match) does when it is likely a stored customer, as
        :meth:`likely_duplicates` finds with ``duplicate_model`` (a fitted
        :class:`~crmcore.rules.dedupe.MatchModel`, required unless ``"create"``) at
        ``duplicate_threshold``: ``"create"`` (the default; nothing is checked), ``"skip"``
        (status ``skipped``, the outcome's ``id`` the stored customer's, warning
        ``import.duplicate_skipped``), ``"merge"`` (the row updates that customer by
        ``mode``, warning ``import.duplicate_merged``; two likely customers reject it,
        ``import.duplicate_ambiguous``), or a callable ``choose(row, matches)`` returning
        ``"create"``, ``"skip"`` or the match to merge into
        (:mod:`crmcore.storage._import_duplicates`; docs/dedupe.md, "On entry").

        A row's ``created_at`` (a mapping with that key) is kept when the row creates a
        customer; a stored customer's is never moved (the outcome then warns,
        ``import.created_at_kept``). Customer objects always carry a ``created_at``
        (the model stamps one when it is built), so for them the import's time is used.

        A rejected record writes nothing; each batch of accepted records is written
        and committed together, with its history. Problem paths are rooted at the
        input record (``$.phones[0].number``); an outcome's ``warnings`` hold the
        normaliser's warnings (with a :class:`~crmcore.storage.BatchNormaliser`). A
        batch is normalised together (with ``check_many`` when the normaliser is a
        :class:`~crmcore.storage.BatchNormaliser`, such as the
        :class:`~crmcore.rules.verification.NormalisationPipeline`), and inserted
        without looking its ids up until the import meets a stored id (the
        backend's insert refuses stored ids; docs/storage.md, "Bulk import").

        Outcomes are collected in the report, in input order. For very large imports
        pass ``on_outcome``: it receives every outcome in input order, each as soon as
        the outcomes of all earlier records are known, and the report keeps only the
        counts and the rejections, so memory does not grow with the input (apart from
        the set of ids seen, which detects repeated ids).

        ``workers`` is how many processes normalise the records (structuring mappings
        and ``check_many``; only with a :class:`~crmcore.storage.BatchNormaliser`):
        ``1`` normalises in this process; ``None`` (the default) does so for imports
        under 10,000 records and otherwise uses a pool of spawned processes, one per
        CPU this process may use (at most 8). The database work, ids, merges and
        history stay in this process, in input order, so outcomes, the report and the
        history equal those of one worker. The normaliser must pickle; an explicit
        ``workers`` > 1 with one that does not raises
        :class:`~crmcore.errors.WrongType` (``workers=None`` warns and uses one). A
        worker's crash or exception raises :class:`~crmcore.errors.ImportWorkerFailed`
        (docs/storage.md, "Importing on several cores").
        """
        return _imports.import_customers(
            self._context,
            records,
            batch_size=batch_size,
            actor=actor,
            source=source,
            upsert=upsert,
            on_outcome=on_outcome,
            mode=mode,
            match_on=match_on,
            workers=workers,
            on_duplicate=on_duplicate,
            duplicate_model=duplicate_model,
            duplicate_threshold=duplicate_threshold,
        )

    def import_records(
        self,
        kind: RecordKind,
        records: Iterable[Record | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        upsert: bool = True,
        on_outcome: Callable[[ImportOutcome], None] | None = None,
    ) -> ImportReport:
        """Create and update many purchases, interactions or complaints, batched.

        ``kind`` is ``"purchase"``, ``"interaction"`` or ``"complaint"``; ``records``
        are models of that kind or mappings in their serialised shape. The report and
        its guarantees are those of :meth:`import_customers`: one outcome per record in
        input order (to ``on_outcome`` too), each batch all-or-nothing in one
        transaction, a record that does not structure or repeats an id rejected.
        Every record must refer to a stored customer (and contact person): each batch
        looks the customers it names up in one query and rejects the others
        (``storage.unknown_reference``). A stored id is updated (``upsert``), left
        ``unchanged`` when equal apart from version and ``created_at``, or rejected
        (``storage.duplicate`` without ``upsert``, ``storage.conflict`` for a stale
        version claim). A mapping's ``created_at`` is kept for a new record; otherwise
        the import's time is used.
        """
        return _imports.import_records(
            self._context,
            kind,
            records,
            batch_size=batch_size,
            upsert=upsert,
            on_outcome=on_outcome,
        )

    def merge(
        self, plan: MergePlan, *, actor: str | None = None, source: str | None = None
    ) -> MergeRecord:
        """Apply a merge plan (:func:`crmcore.rules.dedupe.plan_merge`) atomically.

        In one transaction: the survivor becomes the plan's merged customer (normalised),
        the merged-away customers are removed, their purchases, interactions and
        complaints are re-pointed to the survivor, the lineage is stored as a
        :class:`~crmcore.models.MergeRecord` and every customer involved gets a
        ``merged`` change record (:mod:`crmcore.storage.merging`). A customer changed
        since the plan was made raises :class:`~crmcore.errors.ConcurrencyConflict`
        and nothing is written. Returns the merge record, whose ``id`` undoes it.
        """
        with self.unit_of_work(actor=actor, source=source) as uow:
            record = uow.apply_merge(plan)
            uow.commit()
        return record

    def undo_merge(self, merge_id: str, *, actor: str | None = None) -> MergeRecord:
        """Undo a merge exactly, atomically; returns its record, marked undone.

        Every customer comes back with the serialised form it had before the merge
        apart from ``version``, and every re-pointed record names its customer again.
        Raises :class:`~crmcore.errors.MergeChangedSince` (``merge.changed_since``) when
        the survivor or a re-pointed record changed after the merge, and
        :class:`~crmcore.errors.MergeAlreadyUndone` (``merge.already_undone``) the second
        time; nothing is written then.
        """
        with self.unit_of_work(actor=actor) as uow:
            record = uow.undo_merge(merge_id)
            uow.commit()
        return record

    def resolve_customer_id(self, customer_id: str) -> str:
        """The id of the stored customer ``customer_id`` stands for now.

        A stored id is itself; a merged-away id resolves to its survivor, across chained
        merges; an undone merge's ids are stored again, so they are themselves. Raises
        :class:`~crmcore.errors.NotFound` for an id neither stored nor merged.
        """
        with self.unit_of_work() as uow:
            return uow.resolve_customer_id(customer_id)

    def likely_duplicates(
        self, new: Customer, *, model: MatchModel, threshold: float = 0.9
    ) -> tuple[PairExplanation, ...]:
        """The stored customers ``new`` (a new customer, an import row) probably is.

        ``new`` is normalised as a write would be; the stored customers sharing one of
        its phones, emails, identifier values or its display name (indexed lookups,
        :mod:`crmcore.storage.duplicates`) are scored with ``model``
        (:func:`crmcore.rules.dedupe.likely_duplicates`); those at ``threshold`` or
        above come back strongest first, explained, the stored id as ``right``. Emails
        match in any case. A customer a stored decision (:meth:`mark_not_duplicate`)
        keeps apart from ``new.id`` is not offered. Nothing is written: an import can
        match the row to one instead of adding a customer (``on_duplicate``).
        """
        from crmcore.storage.duplicates import likely_stored_duplicates

        with self.unit_of_work() as uow:
            return likely_stored_duplicates(uow, new, model=model, threshold=threshold)

    def mark_not_duplicate(
        self,
        first_id: str,
        second_id: str,
        *,
        note: str | None = None,
        decided_by: str | None = None,
        actor: str | None = None,
    ) -> NotDuplicate:
        """Store the decision that two customers are not the same; returns it.

        The decision (a :class:`~crmcore.models.NotDuplicate`, record kind
        ``"not_duplicate"``, ``decided_by`` defaulting to ``actor``) is kept for good:
        :func:`crmcore.storage.dedupe.find_duplicates` never puts the two in one group
        and :meth:`likely_duplicates` does not offer one for the other, also after either
        is merged into another customer (decisions follow merged-away ids to their
        survivor). Each customer gets a ``marked_not_duplicate`` change record. Raises
        :class:`~crmcore.errors.NotFound` for an id neither stored nor merged and
        ``dedupe.same_customer`` for two ids that stand for one customer. A merged-away
        id is stored as its survivor's. Marking a pair again with the same note returns
        the stored decision; with another note it is ``dedupe.already_decided``
        (:mod:`crmcore.storage.duplicates`).
        """
        from crmcore.storage.duplicates import mark_not_duplicate

        with self.unit_of_work(actor=actor) as uow:
            decision = mark_not_duplicate(
                uow, first_id, second_id, note=note, decided_by=decided_by
            )
            uow.commit()
        return decision

    def not_duplicates(self, customer_id: str | None = None) -> tuple[NotDuplicate, ...]:
        """The stored "not a duplicate" decisions, by id, their ids resolved through merges.

        With ``customer_id``, those naming the customer it stands for now. A decision
        whose two customers were merged into one is not listed (it separates nothing).
        """
        from crmcore.storage.duplicates import decisions_naming

        with self.unit_of_work() as uow:
            return tuple(decisions_naming(uow._tx, customer_id))

    def remove_not_duplicate(self, decision_id: str, *, actor: str | None = None) -> NotDuplicate:
        """Remove a stored decision by its ``id``; returns it as it was stored.

        Raises :class:`~crmcore.errors.NotFound` for an id not stored. The customers get
        an ``unmarked_not_duplicate`` change record each.
        """
        from crmcore.storage.duplicates import remove_not_duplicate

        with self.unit_of_work(actor=actor) as uow:
            decision = remove_not_duplicate(uow, decision_id)
            uow.commit()
        return decision

    def close(self) -> None:
        """Close the backend."""
        self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


if TYPE_CHECKING:
    from crmcore.rules.dedupe import MatchModel, MergePlan, PairExplanation

if TYPE_CHECKING:  # static proof that the default normaliser meets the protocols it is used by

    def _is_batch_normaliser(pipeline: NormalisationPipeline) -> BatchNormaliser:
        return pipeline

    def _is_normaliser(pipeline: NormalisationPipeline) -> Normaliser:
        return pipeline

    _is_clock: Clock = utc_now

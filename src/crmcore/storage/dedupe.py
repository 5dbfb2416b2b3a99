"""Duplicate detection over a store: blocking where the customers are.

:func:`find_duplicates` returns exactly what
:func:`crmcore.rules.dedupe.find_duplicates` returns over every customer in the store,
and :func:`candidates` exactly what :func:`crmcore.rules.dedupe.candidate_pairs`
returns over their blocking keys:

>>> from crmcore.models import Customer, Phone
>>> from crmcore.storage import connect, dedupe
>>> store = connect("sqlite://", indexes=["@dedupe"])
>>> _ = store.import_customers([
...     Customer.person_named(family="王", given="芳", id="c1",
...                           phones=(Phone(number="+8613800138000"),)),
...     Customer.person_named(family="王", given="芳", id="c2",
...                           phones=(Phone(number="138 0013 8000", region="CN"),)),
...     Customer.person_named(family="Smith", given="Anna", id="c3")])
>>> found = dedupe.candidates(store)
>>> [(p.left, p.right) for p in found.pairs], found.pairs[0].keys[-1]
([('c1', 'c2')], 'phone:+8613800138000')
>>> found.report.customers, found.report.candidate_pairs
(3, 1)

When the backend's transactions implement
:class:`~crmcore.storage.ports.DedupeCandidates` (the SQL storage does once
``"@dedupe"`` is declared: :func:`crmcore.storage.sqlalchemy.declare_index`, or
``indexes=["@dedupe"]`` when connecting), the blocking runs inside the database as
a self-join of the indexed keys, with the block-size cap and the blocking report
computed there; only the candidate pairs come out, then the customers of those pairs
(and of the random pairs that start the model's u) in batches of ``batch_size``.
Otherwise, or when the backend declines (``None``: keys not indexed, a ``region`` in
the spec), the pure rule runs over a streamed read of every customer.

In-database blocking is a fast path (docs/architecture.md): with fast paths off
(``CRMCORE_NO_FAST_PATHS=1``) every call streams the customers through the pure
rule, and the tests prove the two equal on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, cast

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import InvalidArgument, StorageError, WrongType
from crmcore.models import Customer, CustomerKind
from crmcore.query import Field, Query
from crmcore.rules import dedupe as rules
from crmcore.rules.dedupe import (
    BlockingSpec,
    Candidates,
    ComparisonSpec,
    DedupeResult,
    Features,
    MatchModel,
    NotDuplicate,
)
from crmcore.rules.dedupe.compare import DEFAULT_COMPARISON
from crmcore.rules.dedupe.keys import DEFAULT_BLOCKING
from crmcore.storage.duplicates import standing_decisions
from crmcore.storage.ports import DedupeCandidates, Transaction

if TYPE_CHECKING:
    from crmcore.storage.store import Store

__all__ = ["candidates", "find_duplicates"]

_BATCH = 2000


def _customers(tx: Transaction, batch_size: int) -> Iterator[Customer]:
    for record in tx.scan("customer", batch_size=batch_size):
        yield cast(Customer, record)


def _check(store: object, spec: object, batch_size: object, model: object = None) -> None:
    from crmcore.storage.store import Store

    if not isinstance(store, Store):
        raise WrongType(f"expected a Store (crmcore.storage.connect), got {type(store).__name__}")
    if not isinstance(spec, BlockingSpec):
        raise InvalidArgument(f"expected a BlockingSpec, got {type(spec).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgument(f"batch_size must be a positive integer, not {batch_size!r}")
    if model is not None and not isinstance(model, MatchModel):
        raise WrongType(f"model: expected a fitted MatchModel, got {type(model).__name__}")


def _in_database(tx: Transaction, spec: BlockingSpec) -> Candidates | None:
    if fast_paths_enabled() and isinstance(tx, DedupeCandidates):
        return tx.dedupe_candidates(spec)
    return None


def candidates(
    store: Store, spec: BlockingSpec = DEFAULT_BLOCKING, *, batch_size: int = _BATCH
) -> Candidates:
    """:func:`~crmcore.rules.dedupe.candidate_pairs` over every customer's blocking keys."""
    _check(store, spec, batch_size)
    tx = store.backend.begin()
    try:
        found = _in_database(tx, spec)
        if found is not None:
            return found
        keyed = ((c.id, rules.blocking_keys(c, spec=spec)) for c in _customers(tx, batch_size))
        return rules.candidate_pairs(keyed, max_block_size=spec.max_block_size)
    finally:
        tx.rollback()


def find_duplicates(
    store: Store,
    *,
    threshold: float = 0.9,
    blocking: BlockingSpec = DEFAULT_BLOCKING,
    comparison: ComparisonSpec = DEFAULT_COMPARISON,
    model: MatchModel | None = None,
    not_duplicates: Iterable[NotDuplicate] = (),
    sample_pairs: int = 20_000,
    seed: int = 0,
    batch_size: int = _BATCH,
) -> DedupeResult:
    """:func:`crmcore.rules.dedupe.find_duplicates` over every customer in the store.

    The arguments are the pure function's; ``batch_size`` is how many customers
    one read fetches. The decisions stored with
    :meth:`~crmcore.storage.Store.mark_not_duplicate` are respected as well as the
    ``not_duplicates`` passed in: each with its ids resolved through merges
    (:func:`crmcore.storage.duplicates.standing_decisions`), read in the same
    transaction as the customers.
    """
    _check(store, blocking, batch_size, model)
    given = list(not_duplicates)
    tx = store.backend.begin()
    try:
        not_duplicates = [*given, *standing_decisions(tx)]
        found = _in_database(tx, blocking)
        if found is None or not isinstance(tx, DedupeCandidates):
            return rules.find_duplicates(
                _customers(tx, batch_size),
                threshold=threshold,
                blocking=blocking,
                comparison=comparison,
                model=model,
                not_duplicates=not_duplicates,
                sample_pairs=sample_pairs,
                seed=seed,
            )
        ids = tx.customer_ids()
        population = rules.pairs_of_one_kind(
            {
                kind: tx.count("customer", Query(where=Field("kind") == kind))
                for kind in CustomerKind
            }
        )
        wanted = rules.needed_ids(
            found,
            ids,
            sample_pairs=sample_pairs if model is None else 0,
            seed=seed,
            population=population,
        )
        items = _features(tx, sorted(wanted), blocking, batch_size)
        if len(items) < len(wanted):  # removed by another transaction since blocking
            raise StorageError(
                f"{len(wanted) - len(items)} customers were removed while duplicates "
                "were being found; run it again"
            )
        return rules.resolve_candidates(
            found,
            items,
            ids=ids,
            threshold=threshold,
            comparison=comparison,
            model=model,
            not_duplicates=not_duplicates,
            sample_pairs=sample_pairs,
            seed=seed,
            population=population,
        )
    finally:
        tx.rollback()


def _features(
    tx: Transaction, ids: list[str], spec: BlockingSpec, batch_size: int
) -> dict[str, Features]:
    """The features of the customers ``ids``, read ``batch_size`` at a time."""
    items: dict[str, Features] = {}
    for start in range(0, len(ids), batch_size):
        for cid, record in tx.get_many("customer", ids[start : start + batch_size]).items():
            items[cid] = rules.features(cast(Customer, record), region=spec.region)
    return items

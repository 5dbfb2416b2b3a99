"""Segmentation over a store: the pure rules, computed where the purchases are.

Each function takes a :class:`~crmcore.storage.Store` and returns exactly what the
pure rule of :mod:`crmcore.rules.segmentation` returns over every purchase in it:

>>> import datetime as dt
>>> from crmcore.models import Customer, Money, Purchase
>>> from crmcore.rules.segmentation import RfmSpec
>>> from crmcore.storage import connect
>>> from crmcore.storage import segments
>>> store = connect("sqlite://")
>>> with store.unit_of_work() as uow:
...     c = uow.customers.add(Customer.person_named(family="王", given="芳"))
...     at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
...     _ = uow.purchases.add(Purchase(customer_id=c.id, purchased_at=at,
...                                   amount=Money.of("58.00", "CNY"), product="tea"))
...     uow.commit()
>>> as_of = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
>>> (s,) = segments.purchase_summaries(store, as_of=as_of)
>>> s.purchases, s.total == 58, s.recency_days
(1, True, 30)
>>> [s.code for s in segments.rfm(store, RfmSpec(currency="CNY"), as_of=as_of).scores]
['111']

When the backend's transactions implement
:class:`~crmcore.storage.ports.PurchaseAggregates` (the SQL storage does), the
aggregation runs inside the database: one statement per summary, the RFM cut points
and scores in SQL. Otherwise, or when the backend declines a call (``None``: a time
zone other than UTC for repeat summaries, a mean monetary basis for RFM), the pure
rule runs over a streamed read of the purchases, transparently. The value pyramid and
Pareto analysis are asked of a transaction implementing
:class:`~crmcore.storage.ports.TierAggregates` (the SQL storage: one statement each);
otherwise their pure rules run over :func:`purchase_summaries`.

In-database aggregation is a fast path (docs/architecture.md): with fast paths off
(``CRMCORE_NO_FAST_PATHS=1``) every call runs the pure rule over a streamed read, and
the tests prove the two equal on every backend, decimal places included (the SQL
storage keeps each amount's places beside its millionths).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar, cast

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import InvalidArgument, WrongType
from crmcore.models import Purchase
from crmcore.rules import segmentation as rules
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
    SegmentSelection,
    members_of_result,
)
from crmcore.rules.segmentation._common import require_aware, require_spec
from crmcore.rules.segmentation.summaries import require_period
from crmcore.storage.ports import PurchaseAggregates, TierAggregates, Transaction

if TYPE_CHECKING:
    from crmcore.storage.store import Store

__all__ = [
    "count_members",
    "members",
    "pareto",
    "purchase_summaries",
    "repeat_summaries",
    "rfm",
    "value_pyramid",
]

T = TypeVar("T")

_BATCH = 2000


def _purchases(tx: Transaction) -> Iterator[Purchase]:
    for record in tx.scan("purchase", batch_size=_BATCH):
        yield cast(Purchase, record)


def _answer(
    store: Store,
    in_database: Callable[[PurchaseAggregates], T | None],
    by_rule: Callable[[Iterator[Purchase]], T],
) -> T:
    """Ask the backend first (fast paths on), else run the rule over a streamed read."""
    tx = store.backend.begin()
    try:
        if fast_paths_enabled() and isinstance(tx, PurchaseAggregates):
            answer = in_database(tx)
            if answer is not None:
                return answer
        return by_rule(_purchases(tx))
    finally:
        tx.rollback()


def purchase_summaries(store: Store, *, as_of: dt.datetime) -> tuple[CurrencySummary, ...]:
    """:func:`~crmcore.rules.segmentation.summarise_purchases` over the store's purchases."""
    as_of = require_aware(as_of, "as_of")
    return _answer(
        store,
        lambda tx: tx.purchase_summaries(as_of=as_of),
        lambda purchases: rules.summarise_purchases(purchases, as_of=as_of),
    )


def repeat_summaries(
    store: Store, *, as_of: dt.datetime, period: Period = Period.DAY, tz: str = "UTC"
) -> tuple[RepeatSummary, ...]:
    """:func:`~crmcore.rules.segmentation.repeat_summaries` over the store's purchases."""
    as_of = require_aware(as_of, "as_of")
    period = require_period(period)
    rules.zone(tz)  # an unknown zone is refused the same way on every backend
    return _answer(
        store,
        lambda tx: tx.repeat_summaries(as_of=as_of, period=period, tz=tz),
        lambda purchases: rules.repeat_summaries(purchases, as_of=as_of, period=period, tz=tz),
    )


def rfm(store: Store, spec: RfmSpec, *, as_of: dt.datetime) -> RfmResult:
    """:func:`~crmcore.rules.segmentation.rfm` over the summaries of the store's purchases."""
    require_spec(spec, RfmSpec, "rfm")
    as_of = require_aware(as_of, "as_of")
    return _answer(
        store,
        lambda tx: tx.rfm(spec, as_of=as_of),
        lambda purchases: rules.rfm(spec, rules.summarise_purchases(purchases, as_of=as_of)),
    )


def _tiers(
    store: Store,
    in_database: Callable[[TierAggregates], T | None],
    by_rule: Callable[[tuple[CurrencySummary, ...]], T],
    as_of: dt.datetime,
) -> T:
    """Ask the backend for the whole segmentation, else run the rule over the summaries."""
    if fast_paths_enabled():
        tx = store.backend.begin()
        try:
            if isinstance(tx, TierAggregates):
                answer = in_database(tx)
                if answer is not None:
                    return answer
        finally:
            tx.rollback()
    return by_rule(purchase_summaries(store, as_of=as_of))


def value_pyramid(store: Store, spec: PyramidSpec, *, as_of: dt.datetime) -> PyramidResult:
    """:func:`~crmcore.rules.segmentation.value_pyramid` over the store's summaries."""
    require_spec(spec, PyramidSpec, "value_pyramid")
    as_of = require_aware(as_of, "as_of")
    return _tiers(
        store,
        lambda tx: tx.value_pyramid(spec, as_of=as_of),
        lambda summaries: rules.value_pyramid(spec, summaries),
        as_of,
    )


def pareto(store: Store, spec: ParetoSpec, *, as_of: dt.datetime) -> tuple[ParetoResult, ...]:
    """:func:`~crmcore.rules.segmentation.pareto` over the store's summaries."""
    require_spec(spec, ParetoSpec, "pareto")
    as_of = require_aware(as_of, "as_of")
    return _tiers(
        store,
        lambda tx: tx.pareto(spec, as_of=as_of),
        lambda summaries: rules.pareto(spec, summaries),
        as_of,
    )


def members(
    store: Store,
    selection: SegmentSelection,
    *,
    as_of: dt.datetime,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[str, ...]:
    """The ids of the selected segment's members as of ``as_of``, in id order.

    A page: the ids after ``after`` (an id, exclusive), at most ``limit`` of them;
    pass the last id of one page as ``after`` to get the next. The selection is
    evaluated anew on every call, so the members are those of ``as_of``.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidArgument(f"limit must be a non-negative integer or None, not {limit!r}")
    if after is not None and not isinstance(after, str):
        raise WrongType(f"after must be a customer id (str) or None, not {after!r}")
    ids = _members(store, selection, as_of)
    if after is not None:
        ids = ids[bisect_right(ids, after) :]
    return ids if limit is None else ids[:limit]


def count_members(store: Store, selection: SegmentSelection, *, as_of: dt.datetime) -> int:
    """How many customers the selected segment has as of ``as_of``."""
    return len(_members(store, selection, as_of))


def _members(store: Store, selection: SegmentSelection, as_of: dt.datetime) -> tuple[str, ...]:
    if not isinstance(selection, SegmentSelection):
        raise WrongType(f"expected a SegmentSelection, got {type(selection).__name__}")
    rule = selection.rule
    if isinstance(rule, RfmSpec):
        return members_of_result(selection, rfm(store, rule, as_of=as_of))
    return members_of_result(selection, value_pyramid(store, rule, as_of=as_of))

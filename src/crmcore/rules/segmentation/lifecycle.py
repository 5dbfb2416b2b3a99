"""The lifecycle ladder: suggested moves, with reasons; the stage stays the user's to set.

The ladder (brief section 7) runs suspect, prospect, first-time customer, repeat
customer, client, member, advocate, partner; off it are disqualified, lapsed
(stopped buying) and lost (left). :func:`suggest_stages` reads purchases and
suggests, never sets:

* up the ladder, as far as purchases show: a first purchase makes a first-time
  customer, ``repeat_purchases`` purchases a repeat customer, ``client_purchases``
  over at least ``client_tenure_days`` since the first a client, and a membership
  card identifier (with ``membership_card_makes_member``) a member;
* off it: no purchase for more than ``lapsed_after_days`` suggests lapsed;
* back on it: a lapsed customer who bought again within that time gets the stage
  the purchases show.

Advocate and partner need what purchases cannot show (referrals, a partnership) and
are never suggested; no move down the ladder is suggested; disqualified and lost
customers are left alone. Purchase counts add up across currencies (money never).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.errors import Problem
from crmcore.models import Customer, IdentifierKind, LifecycleStage
from crmcore.models._base import checks, positive
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import (
    Explanation,
    Factor,
    order_problem,
    require_aware,
)
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = ["LADDER", "LifecycleSpec", "LifecycleSuggestion", "suggest_stages"]

_L = LifecycleStage
LADDER: tuple[LifecycleStage, ...] = (
    _L.SUSPECT,
    _L.PROSPECT,
    _L.FIRST_TIME,
    _L.REPEAT,
    _L.CLIENT,
    _L.MEMBER,
    _L.ADVOCATE,
    _L.PARTNER,
)
"""The stages on the ladder, lowest first."""


@attrs.frozen(kw_only=True)
class LifecycleSpec(Spec):
    """When purchases suggest a move on the lifecycle ladder."""

    TAG = "lifecycle"
    kind: str = "lifecycle"
    repeat_purchases: int = attrs.field(default=2, metadata=checks(positive))
    client_purchases: int = attrs.field(default=5, metadata=checks(positive))
    client_tenure_days: int = attrs.field(default=180, metadata=checks(positive))
    lapsed_after_days: int = attrs.field(default=365, metadata=checks(positive))
    membership_card_makes_member: bool = True

    def _spec_invariants(self) -> Iterable[Problem]:
        problem = order_problem(self, "repeat_purchases", "client_purchases")
        if problem is not None:
            yield problem


@attrs.frozen(kw_only=True)
class LifecycleSuggestion:
    """A suggested move for one customer: from the current stage to another, and why."""

    customer_id: str
    current: LifecycleStage
    suggested: LifecycleStage
    explanation: Explanation


def _earned(
    spec: LifecycleSpec, customer: Customer, purchases: int, tenure_days: int
) -> tuple[LifecycleStage, str]:
    member = spec.membership_card_makes_member and any(
        i.kind is IdentifierKind.MEMBERSHIP_CARD for i in customer.identifiers
    )
    if member:
        return _L.MEMBER, "holds a membership card"
    if purchases >= spec.client_purchases and tenure_days >= spec.client_tenure_days:
        return _L.CLIENT, (
            f"{purchases} purchases over {tenure_days} days "
            f"(client: {spec.client_purchases} over {spec.client_tenure_days})"
        )
    if purchases >= spec.repeat_purchases:
        return _L.REPEAT, f"{purchases} purchases (repeat: {spec.repeat_purchases})"
    return _L.FIRST_TIME, "one purchase"


@item_types(customers=Customer, summaries=CurrencySummary)
def suggest_stages(
    spec: LifecycleSpec,
    customers: Iterable[Customer],
    summaries: Iterable[CurrencySummary],
    *,
    as_of: dt.datetime,
) -> tuple[LifecycleSuggestion, ...]:
    """Suggest a stage for each customer whose purchases point elsewhere; by customer id."""
    as_of = require_aware(as_of, "as_of")
    bought: dict[str, list[CurrencySummary]] = {}
    for s in summaries:
        bought.setdefault(s.customer_id, []).append(s)
    out = []
    for customer in sorted(customers, key=lambda c: c.id):
        current = customer.lifecycle_stage
        rows = bought.get(customer.id)
        if not rows or current in (_L.DISQUALIFIED, _L.LOST):
            continue
        purchases = sum(s.purchases for s in rows)
        first = min(s.first_purchase for s in rows)
        last = max(s.last_purchase for s in rows)
        silent = (as_of - last).days
        tenure = (last - first).days
        factors = (
            Factor(
                name="purchases", value=Decimal(purchases), rule="purchase records, all currencies"
            ),
            Factor(name="tenure_days", value=Decimal(tenure), rule="first to last purchase"),
            Factor(
                name="days_since_last_purchase",
                value=Decimal(silent),
                cut_points=(Decimal(spec.lapsed_after_days),),
                rule="lapsed when above the cut point",
            ),
        )
        if silent > spec.lapsed_after_days:
            if current is _L.LAPSED:
                continue
            suggested = _L.LAPSED
            reason = f"no purchase for {silent} days (lapsed after {spec.lapsed_after_days})"
        else:
            suggested, reason = _earned(spec, customer, purchases, tenure)
            if current is _L.LAPSED:
                reason = f"bought again {silent} days ago; {reason}"
            elif LADDER.index(suggested) <= LADDER.index(current):
                continue
        out.append(
            LifecycleSuggestion(
                customer_id=customer.id,
                current=current,
                suggested=suggested,
                explanation=Explanation(
                    rule=spec.kind,
                    outcome=suggested.value,
                    factors=factors,
                    reason=f"{current.value} -> {suggested.value}: {reason}",
                ),
            )
        )
    return tuple(out)

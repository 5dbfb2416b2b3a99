"""Historic customer lifetime value and customer equity.

The historic lifetime value of a customer is all they bought from us up to
``as_of`` (``basis="revenue"``) or the margin on it where costs are known
(``basis="margin"``), per currency. Customer equity (brief section 7) is the value
of the current customers plus that expected from newly won ones: here the historic
value of the customers active within ``active_within_days`` (all, when ``None``)
plus ``new_customers * value_per_new_customer``, both given by the caller (a
predictive model is one way to estimate them).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.models._base import checks, non_negative, positive
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import Explanation, Factor, refuse
from crmcore.rules.segmentation.classes import ValueBasis
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = [
    "CustomerEquity",
    "HistoricValueSpec",
    "LifetimeValue",
    "customer_equity",
    "historic_lifetime_values",
]


@attrs.frozen(kw_only=True)
class HistoricValueSpec(Spec):
    """What historic lifetime value counts, and who is a current customer."""

    TAG = "historic_lifetime_value"
    kind: str = "historic_lifetime_value"
    basis: ValueBasis = ValueBasis.REVENUE
    active_within_days: int | None = attrs.field(default=None, metadata=checks(positive))


@attrs.frozen(kw_only=True)
class LifetimeValue:
    """One customer's historic lifetime value in one currency."""

    customer_id: str
    currency: str
    value: Decimal | None
    active: bool
    explanation: Explanation


@attrs.frozen(kw_only=True)
class CustomerEquity:
    """Customer equity in one currency, and its parts."""

    currency: str
    current_customers: int
    current_value: Decimal
    new_customers: int
    new_value: Decimal
    equity: Decimal
    explanation: Explanation


def _value(spec: HistoricValueSpec, s: CurrencySummary) -> Decimal | None:
    return s.total if spec.basis is ValueBasis.REVENUE else s.margin


@item_types(summaries=CurrencySummary)
def historic_lifetime_values(
    spec: HistoricValueSpec, summaries: Iterable[CurrencySummary]
) -> tuple[LifetimeValue, ...]:
    """Each summary's historic lifetime value, ordered by customer and currency."""
    out = []
    for s in sorted(summaries, key=lambda s: (s.customer_id, s.currency)):
        value = _value(spec, s)
        window = spec.active_within_days
        active = window is None or s.recency_days <= window
        out.append(
            LifetimeValue(
                customer_id=s.customer_id,
                currency=s.currency,
                value=value,
                active=active,
                explanation=Explanation(
                    rule=spec.kind,
                    outcome=str(value) if value is not None else "unknown",
                    factors=(
                        Factor(name=spec.basis.value, value=value),
                        Factor(
                            name="recency_days",
                            value=Decimal(s.recency_days),
                            cut_points=(Decimal(window),) if window is not None else (),
                            rule="active at or below the cut point",
                        ),
                    ),
                    reason=f"{spec.basis.value} of {s.purchases} purchases up to as_of",
                ),
            )
        )
    return tuple(out)


@item_types(summaries=CurrencySummary)
def customer_equity(
    spec: HistoricValueSpec,
    summaries: Iterable[CurrencySummary],
    *,
    new_customers: int = 0,
    value_per_new_customer: Decimal = Decimal(0),
) -> tuple[CustomerEquity, ...]:
    """Customer equity per currency, ordered by currency.

    ``value_per_new_customer`` is read in each currency's own units.
    """
    for name, given in (
        ("new_customers", new_customers),
        ("value_per_new_customer", value_per_new_customer),
    ):
        problem = non_negative(given)
        if problem is not None:
            raise refuse(problem.code, f"$.{name}", problem.message, spec.kind)
    per: dict[str, list[Decimal]] = {}
    for v in historic_lifetime_values(spec, summaries):
        if v.active and v.value is not None:
            per.setdefault(v.currency, []).append(v.value)
    out = []
    for currency in sorted(per):
        current = sum(per[currency], Decimal(0))
        new_value = value_per_new_customer * new_customers
        out.append(
            CustomerEquity(
                currency=currency,
                current_customers=len(per[currency]),
                current_value=current,
                new_customers=new_customers,
                new_value=new_value,
                equity=current + new_value,
                explanation=Explanation(
                    rule=spec.kind,
                    outcome=str(current + new_value),
                    factors=(
                        Factor(name="current_value", value=current),
                        Factor(name="new_value", value=new_value),
                    ),
                    reason=(
                        f"{len(per[currency])} current customers worth {current} plus "
                        f"{new_customers} new at {value_per_new_customer} {currency}"
                    ),
                ),
            )
        )
    return tuple(out)

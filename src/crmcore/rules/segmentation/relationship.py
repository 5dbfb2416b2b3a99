"""Relationship level from margin and number of customers (Kotler's matrix, brief section 7).

============  ==============  ==============  ==============
margin        many customers  medium number   few customers
============  ==============  ==============  ==============
high          accountable     proactive       partnership
medium        reactive        accountable     proactive
low           basic           reactive        accountable
============  ==============  ==============  ==============

The margin is a rate (margin over revenue, ``0.25`` for 25%); a rate at or above
``high_margin_at_least`` is high, below ``low_margin_below`` low, medium between.
A number of customers at or above ``many_customers_at_least`` is many, below
``few_customers_below`` few, medium between.

>>> from decimal import Decimal
>>> relationship_level(RelationshipSpec(), margin_rate=Decimal("0.4"), customers=12).level
<RelationshipLevel.PARTNERSHIP: 'partnership'>
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.errors import Problem
from crmcore.models._base import checks, non_negative
from crmcore.rules.segmentation._common import Explanation, Factor, order_problem
from crmcore.rules.verification import Spec

__all__ = [
    "RelationshipAssessment",
    "RelationshipLevel",
    "RelationshipSpec",
    "relationship_level",
]


class RelationshipLevel(enum.StrEnum):
    """Kotler's five levels of relationship, from least to most involved."""

    BASIC = "basic"
    REACTIVE = "reactive"
    ACCOUNTABLE = "accountable"
    PROACTIVE = "proactive"
    PARTNERSHIP = "partnership"


_R = RelationshipLevel
_MATRIX = {
    "high": {"many": _R.ACCOUNTABLE, "medium": _R.PROACTIVE, "few": _R.PARTNERSHIP},
    "medium": {"many": _R.REACTIVE, "medium": _R.ACCOUNTABLE, "few": _R.PROACTIVE},
    "low": {"many": _R.BASIC, "medium": _R.REACTIVE, "few": _R.ACCOUNTABLE},
}


@attrs.frozen(kw_only=True)
class RelationshipSpec(Spec):
    """The bands of margin rate and number of customers of the matrix."""

    TAG = "relationship_level"
    kind: str = "relationship_level"
    high_margin_at_least: Decimal = Decimal("0.3")
    low_margin_below: Decimal = Decimal("0.1")
    many_customers_at_least: int = attrs.field(default=1000, metadata=checks(non_negative))
    few_customers_below: int = attrs.field(default=100, metadata=checks(non_negative))

    def _spec_invariants(self) -> Iterable[Problem]:
        for low, high in (
            ("low_margin_below", "high_margin_at_least"),
            ("few_customers_below", "many_customers_at_least"),
        ):
            problem = order_problem(self, low, high)
            if problem is not None:
                yield problem


@attrs.frozen(kw_only=True)
class RelationshipAssessment:
    """The level the matrix gives, the bands that gave it, and the explanation."""

    level: RelationshipLevel
    margin_band: str
    customer_band: str
    explanation: Explanation


def _band(value: Decimal, low: Decimal | int, high: Decimal | int, below: str, above: str) -> str:
    """``above`` at or above ``high``, ``below`` under ``low``, ``"medium"`` between."""
    if value >= high:
        return above
    return below if value < low else "medium"


def relationship_level(
    spec: RelationshipSpec, *, margin_rate: Decimal, customers: int
) -> RelationshipAssessment:
    """The relationship level for a business with ``customers`` at ``margin_rate``."""
    margin_band = _band(
        margin_rate, spec.low_margin_below, spec.high_margin_at_least, "low", "high"
    )
    customer_band = _band(
        Decimal(customers), spec.few_customers_below, spec.many_customers_at_least, "few", "many"
    )
    level = _MATRIX[margin_band][customer_band]
    factors = (
        Factor(
            name="margin_rate",
            value=margin_rate,
            cut_points=(spec.low_margin_below, spec.high_margin_at_least),
            rule="low below the first cut point, high at or above the second",
        ),
        Factor(
            name="customers",
            value=Decimal(customers),
            cut_points=(Decimal(spec.few_customers_below), Decimal(spec.many_customers_at_least)),
            rule="few below the first cut point, many at or above the second",
        ),
    )
    return RelationshipAssessment(
        level=level,
        margin_band=margin_band,
        customer_band=customer_band,
        explanation=Explanation(
            rule=spec.kind,
            outcome=level.value,
            factors=factors,
            reason=f"{margin_band} margin, {customer_band} customers -> {level.value}",
        ),
    )

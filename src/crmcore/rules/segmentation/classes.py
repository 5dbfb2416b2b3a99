"""Profitability classes (good, not good, bad) and value classes (Peppers and Rogers).

Profitability (the brief's FedEx grading): a customer whose margin is at least
``good_margin_at_least`` is good, one whose margin is below ``bad_margin_below`` is
bad, anyone between is not good; without any known cost the class is unknown. The
margins are compared in each summary's own currency.

Value classes: below-zero customers have a negative value (margin, or revenue); the
most valuable are the top ``most_valuable_share`` of the rest by value (cut at rank
``ceil(share * n)``, ties all in); the most growable are, of the others, the top
``most_growable_share`` by headroom, the caller's estimate of a customer's potential
value minus the value so far (customers without an estimate have no headroom);
everyone else is to be maintained.

>>> from decimal import Decimal
>>> ProfitabilitySpec().class_for(Decimal("-1"))
<ProfitClass.BAD: 'bad'>
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from crmcore.errors import Problem
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import (
    Explanation,
    Factor,
    order_problem,
    rank_cut_points,
    share_problem,
)
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = [
    "ClassAssignment",
    "ProfitClass",
    "ProfitabilitySpec",
    "ValueBasis",
    "ValueClass",
    "ValueClassSpec",
    "profitability_classes",
    "value_classes",
]


class ProfitClass(enum.StrEnum):
    """A customer's profitability class."""

    GOOD = "good"
    NOT_GOOD = "not_good"
    BAD = "bad"
    UNKNOWN = "unknown"


class ValueClass(enum.StrEnum):
    """Peppers and Rogers' value classes, and the rest."""

    MOST_VALUABLE = "most_valuable"
    MOST_GROWABLE = "most_growable"
    BELOW_ZERO = "below_zero"
    MAINTAIN = "maintain"
    UNKNOWN = "unknown"


class ValueBasis(enum.StrEnum):
    """What a customer's value is measured by."""

    MARGIN = "margin"
    REVENUE = "revenue"


@attrs.frozen(kw_only=True)
class ClassAssignment:
    """One customer's class in one currency, with the explanation."""

    customer_id: str
    currency: str
    value: Decimal | None
    assigned: str
    explanation: Explanation


@attrs.frozen(kw_only=True)
class ProfitabilitySpec(Spec):
    """Good, not good and bad customers by margin."""

    TAG = "profitability"
    kind: str = "profitability"
    good_margin_at_least: Decimal = Decimal(1000)
    bad_margin_below: Decimal = Decimal(0)

    def _spec_invariants(self) -> Iterable[Problem]:
        problem = order_problem(self, "bad_margin_below", "good_margin_at_least")
        if problem is not None:
            yield problem

    def class_for(self, margin: Decimal | None) -> ProfitClass:
        """The class of a margin (``None``: no cost known)."""
        if margin is None:
            return ProfitClass.UNKNOWN
        if margin < self.bad_margin_below:
            return ProfitClass.BAD
        if margin >= self.good_margin_at_least:
            return ProfitClass.GOOD
        return ProfitClass.NOT_GOOD


@item_types(summaries=CurrencySummary)
def profitability_classes(
    spec: ProfitabilitySpec, summaries: Iterable[CurrencySummary]
) -> tuple[ClassAssignment, ...]:
    """The profitability class of each summary, ordered by customer and currency."""
    cuts = (spec.bad_margin_below, spec.good_margin_at_least)
    rule = "bad below the first cut point, good at or above the second, not good between"
    out = []
    for s in sorted(summaries, key=lambda s: (s.customer_id, s.currency)):
        found = spec.class_for(s.margin)
        out.append(
            ClassAssignment(
                customer_id=s.customer_id,
                currency=s.currency,
                value=s.margin,
                assigned=found.value,
                explanation=Explanation(
                    rule=spec.kind,
                    outcome=found.value,
                    factors=(Factor(name="margin", value=s.margin, cut_points=cuts, rule=rule),),
                    reason=(
                        f"margin {s.margin} {s.currency} over {s.costed_purchases} of "
                        f"{s.purchases} purchases with a known cost -> {found.value}"
                        if s.margin is not None
                        else "no purchase has a known cost"
                    ),
                ),
            )
        )
    return tuple(out)


@attrs.frozen(kw_only=True)
class ValueClassSpec(Spec):
    """Most valuable, most growable and below-zero customers."""

    TAG = "value_classes"
    kind: str = "value_classes"
    basis: ValueBasis = ValueBasis.MARGIN
    most_valuable_share: Decimal = Decimal("0.2")
    most_growable_share: Decimal = Decimal("0.2")

    def _spec_invariants(self) -> Iterable[Problem]:
        for name in ("most_valuable_share", "most_growable_share"):
            problem = share_problem(getattr(self, name), f"$.{name}")
            if problem is not None:
                yield problem


@item_types(summaries=CurrencySummary)
def value_classes(
    spec: ValueClassSpec,
    summaries: Iterable[CurrencySummary],
    *,
    potentials: Mapping[str, Decimal] | None = None,
) -> tuple[ClassAssignment, ...]:
    """The value class of each summary, per currency, ordered by customer and currency.

    ``potentials`` maps a customer id to the caller's estimate of that customer's
    potential value in the summary's currency (share of wallet, say).
    """
    potentials = potentials or {}
    by_currency: dict[str, list[CurrencySummary]] = {}
    for s in summaries:
        by_currency.setdefault(s.currency, []).append(s)
    out: list[ClassAssignment] = []
    for currency, rows in by_currency.items():

        def value_of(s: CurrencySummary) -> Decimal | None:
            return s.margin if spec.basis is ValueBasis.MARGIN else s.total

        values = sorted((v for v in map(value_of, rows) if v is not None and v >= 0), reverse=True)
        (mvc_cut,) = rank_cut_points(values, [spec.most_valuable_share]) if values else (None,)
        headrooms: dict[str, Decimal] = {}
        for s in rows:
            value = value_of(s)
            potential = potentials.get(s.customer_id)
            if value is None or value < 0 or potential is None:
                continue
            if mvc_cut is not None and value >= mvc_cut:
                continue
            if potential - value > 0:
                headrooms[s.customer_id] = potential - value
        ordered = sorted(headrooms.values(), reverse=True)
        (mgc_cut,) = rank_cut_points(ordered, [spec.most_growable_share]) if ordered else (None,)
        for s in rows:
            value = value_of(s)
            room = headrooms.get(s.customer_id)
            factors = [
                Factor(
                    name=spec.basis.value,
                    value=value,
                    cut_points=(Decimal(0),) + ((mvc_cut,) if mvc_cut is not None else ()),
                    rule="below zero under 0; most valuable at or above the rank cut",
                )
            ]
            if value is None:
                found, why = ValueClass.UNKNOWN, "no purchase has a known cost"
            elif value < 0:
                found, why = ValueClass.BELOW_ZERO, f"{spec.basis.value} {value} is below zero"
            elif mvc_cut is not None and value >= mvc_cut:
                found = ValueClass.MOST_VALUABLE
                why = f"{spec.basis.value} {value} is in the top {spec.most_valuable_share}"
            elif room is not None and mgc_cut is not None and room >= mgc_cut:
                found = ValueClass.MOST_GROWABLE
                why = f"headroom {room} is in the top {spec.most_growable_share}"
            else:
                found, why = ValueClass.MAINTAIN, "neither in the top by value nor by headroom"
            if room is not None:
                factors.append(
                    Factor(
                        name="headroom",
                        value=room,
                        cut_points=(mgc_cut,) if mgc_cut is not None else (),
                        rule="potential minus value; most growable at or above the rank cut",
                    )
                )
            out.append(
                ClassAssignment(
                    customer_id=s.customer_id,
                    currency=currency,
                    value=value,
                    assigned=found.value,
                    explanation=Explanation(
                        rule=spec.kind, outcome=found.value, factors=tuple(factors), reason=why
                    ),
                )
            )
    out.sort(key=lambda a: (a.customer_id, a.currency))
    return tuple(out)

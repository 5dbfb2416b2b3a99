"""The customer value pyramid (by amount thresholds or rank shares) and Pareto analysis.

Thresholds: the brief's pyramid is VIP over 58,900 yuan, large 19,000 to 58,900,
medium 4,820 to 19,000 and small below (:data:`BRIEF_TIERS`). A tier's ``minimum``
is inclusive unless ``inclusive`` is false; the first tier whose minimum the total
meets wins, and the last tier (no minimum) takes the rest.

Rank shares: each tier holds a share of the customers counted from the top
(:data:`RANK_TIERS`: 1%, 4%, 15%, the rest). The cut amount of a cumulative share
``s`` is the total at 1-based position ``ceil(s * n)`` of the totals sorted
descending; a customer is in the first tier whose cut amount the total reaches.
Customers tied with the last one in are all in, so ties are never split and the
result does not depend on row order.

Pareto: the revenue share of the top ``ceil(x * n)`` customers, for each ``x``;
which tied customers are "the top" never changes the sum.

>>> from decimal import Decimal
>>> PyramidSpec().tier_for(Decimal("58900"))
'large'
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from crmcore.errors import Problem
from crmcore.models import Model
from crmcore.models._base import checks, non_blank
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import (
    Explanation,
    Factor,
    currency_problem,
    divide,
    rank_cut_points,
    require_spec,
    share_problem,
)
from crmcore.rules.segmentation.rfm import single_currency
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = [
    "BRIEF_TIERS",
    "RANK_TIERS",
    "ParetoPoint",
    "ParetoResult",
    "ParetoSpec",
    "PyramidMethod",
    "PyramidResult",
    "PyramidSpec",
    "Tier",
    "TierAssignment",
    "assign_tiers",
    "pareto",
    "pareto_result",
    "pyramid_cut_points",
    "tier_assignment",
    "value_pyramid",
]


class PyramidMethod(enum.StrEnum):
    """How the pyramid's tiers are cut."""

    THRESHOLDS = "thresholds"
    SHARES = "shares"


@attrs.frozen(kw_only=True)
class Tier(Model):
    """One tier of the pyramid.

    Attributes:
        name: The tier's name.
        minimum: With thresholds, the lowest total in the tier; ``None`` on the last tier.
        inclusive: Whether a total equal to ``minimum`` is in the tier.
        share: With rank shares, the tier's share of customers (0 to 1); ``None`` on the last.
    """

    name: str = attrs.field(metadata=checks(non_blank))
    minimum: Decimal | None = None
    inclusive: bool = True
    share: Decimal | None = None


BRIEF_TIERS: tuple[Tier, ...] = (
    Tier(name="VIP", minimum=Decimal(58900), inclusive=False),
    Tier(name="large", minimum=Decimal(19000)),
    Tier(name="medium", minimum=Decimal(4820)),
    Tier(name="small"),
)
"""The brief's pyramid in yuan: VIP > 58,900 >= large >= 19,000 > medium >= 4,820 > small."""

RANK_TIERS: tuple[Tier, ...] = (
    Tier(name="VIP", share=Decimal("0.01")),
    Tier(name="large", share=Decimal("0.04")),
    Tier(name="medium", share=Decimal("0.15")),
    Tier(name="small"),
)
"""The pyramid by rank: the top 1%, the next 4%, the next 15%, and the rest."""


@attrs.frozen(kw_only=True)
class PyramidSpec(Spec):
    """The value pyramid: tiers by total purchase amount in one currency."""

    TAG = "value_pyramid"
    kind: str = "value_pyramid"
    method: PyramidMethod = PyramidMethod.THRESHOLDS
    currency: str | None = "CNY"
    tiers: tuple[Tier, ...] = BRIEF_TIERS

    def _spec_invariants(self) -> Iterable[Problem]:
        def bad(index: int, message: str) -> Problem:
            return Problem(
                code="segmentation.tiers_invalid", path=f"$.tiers[{index}]", message=message
            )

        currency = currency_problem(self.currency)
        if currency is not None:
            yield currency
        if len(self.tiers) < 2:
            yield bad(0, "a pyramid needs at least two tiers")
            return
        *upper, last = self.tiers
        if last.minimum is not None or last.share is not None:
            yield bad(len(upper), "the last tier takes the rest: no minimum, no share")
        if self.method is PyramidMethod.THRESHOLDS:
            minima = [t.minimum for t in upper]
            for i, tier in enumerate(upper):
                if tier.minimum is None or tier.share is not None:
                    yield bad(i, "with thresholds every tier but the last needs a minimum only")
            known = [m for m in minima if m is not None]
            if known != sorted(known, reverse=True) or len(set(known)) != len(known):
                yield bad(0, "minima must fall strictly from the top tier down")
        else:
            for i, tier in enumerate(upper):
                if tier.share is None or not Decimal(0) < tier.share <= 1 or tier.minimum:
                    yield bad(i, "with shares every tier but the last needs a share in (0, 1]")
            if sum((t.share or Decimal(0) for t in upper), Decimal(0)) > 1:
                yield bad(0, "the shares add up to more than 1")

    def tier_for(self, total: Decimal, cut_points: tuple[Decimal, ...] | None = None) -> str:
        """The tier of ``total`` given the cut amounts (the minima, for thresholds)."""
        cuts = cut_points if cut_points is not None else self.thresholds()
        for tier, cut in zip(self.tiers, cuts, strict=False):
            inclusive = tier.inclusive or self.method is PyramidMethod.SHARES
            if total > cut or (inclusive and total == cut):
                return tier.name
        return self.tiers[-1].name

    def thresholds(self) -> tuple[Decimal, ...]:
        """The fixed minima of the upper tiers (thresholds method)."""
        return tuple(t.minimum for t in self.tiers[:-1] if t.minimum is not None)


@attrs.frozen(kw_only=True)
class TierAssignment:
    """One customer's tier, with the explanation."""

    customer_id: str
    currency: str
    total: Decimal
    tier: str
    explanation: Explanation


@attrs.frozen(kw_only=True)
class PyramidResult:
    """The cut amounts applied and each customer's tier, ordered by customer id."""

    currency: str
    cut_points: tuple[Decimal, ...]
    assignments: tuple[TierAssignment, ...]

    def counts(self) -> dict[str, int]:
        """How many customers each tier holds, top tier first."""
        found: dict[str, int] = {}
        for a in self.assignments:
            found[a.tier] = found.get(a.tier, 0) + 1
        return found


_HOW = {
    PyramidMethod.THRESHOLDS: "first tier whose minimum the total reaches",
    PyramidMethod.SHARES: "first tier whose cut amount (at its rank share) the total reaches",
}


@item_types(summaries=CurrencySummary)
def pyramid_cut_points(
    spec: PyramidSpec, summaries: Iterable[CurrencySummary]
) -> tuple[Decimal, ...]:
    """The cut amounts of the upper tiers, top first: the minima, or the rank-share cuts."""
    _, rows = single_currency(summaries, spec.currency, spec.kind)
    if spec.method is PyramidMethod.THRESHOLDS:
        return spec.thresholds()
    cumulative, running = [], Decimal(0)
    for upper in spec.tiers[:-1]:
        running += upper.share or Decimal(0)
        cumulative.append(running)
    totals = sorted((s.total for s in rows), reverse=True)
    return rank_cut_points(totals, cumulative) if totals else ()


@item_types(summaries=CurrencySummary)
def assign_tiers(
    spec: PyramidSpec, cut_points: tuple[Decimal, ...], summaries: Iterable[CurrencySummary]
) -> tuple[TierAssignment, ...]:
    """Place each summary of the spec's currency in a tier by ``cut_points``; by customer id."""
    currency, rows = single_currency(summaries, spec.currency, spec.kind)
    return tuple(
        tier_assignment(
            spec, cut_points, s.customer_id, currency, s.total, spec.tier_for(s.total, cut_points)
        )
        for s in sorted(rows, key=lambda s: s.customer_id)
    )


def tier_assignment(
    spec: PyramidSpec,
    cut_points: tuple[Decimal, ...],
    customer_id: str,
    currency: str,
    total: Decimal,
    tier: str,
) -> TierAssignment:
    """The :class:`TierAssignment` of a customer's ``total`` placed in ``tier``, explained.

    :func:`assign_tiers` finds the tier itself; an engine that found it elsewhere (the
    SQL storage, with ``CASE``) builds the same result here.
    """
    how = _HOW[spec.method]
    return TierAssignment(
        customer_id=customer_id,
        currency=currency,
        total=total,
        tier=tier,
        explanation=Explanation(
            rule=spec.kind,
            outcome=tier,
            factors=(Factor(name="total", value=total, cut_points=cut_points, rule=how),),
            # str() itself: a Decimal's format() with no spec is the same text, slower.
            reason=f"total {total!s} {currency}: {how} -> {tier}",
        ),
    )


@item_types(summaries=CurrencySummary)
def value_pyramid(spec: PyramidSpec, summaries: Iterable[CurrencySummary]) -> PyramidResult:
    """Place each customer of the spec's currency in a tier of the pyramid.

    :func:`pyramid_cut_points` once, then :func:`assign_tiers`.
    """
    require_spec(spec, PyramidSpec, "value_pyramid")
    currency, rows = single_currency(summaries, spec.currency, spec.kind)
    cuts = pyramid_cut_points(spec, rows)
    return PyramidResult(
        currency=currency, cut_points=cuts, assignments=assign_tiers(spec, cuts, rows)
    )


@attrs.frozen(kw_only=True)
class ParetoSpec(Spec):
    """Pareto analysis: the revenue share of the top customers.

    Attributes:
        top_shares: The customer shares to report (``0.2`` is the top 20%).
        revenue_share: Also report how few customers bring this share of revenue.
    """

    TAG = "pareto"
    kind: str = "pareto"
    top_shares: tuple[Decimal, ...] = (Decimal("0.2"),)
    revenue_share: Decimal = Decimal("0.8")

    def _spec_invariants(self) -> Iterable[Problem]:
        shares = [(share, f"$.top_shares[{i}]") for i, share in enumerate(self.top_shares)]
        for share, path in [*shares, (self.revenue_share, "$.revenue_share")]:
            problem = share_problem(share, path)
            if problem is not None:
                yield problem


@attrs.frozen(kw_only=True)
class ParetoPoint:
    """The top ``customers`` (``customer_share`` of all) and their revenue."""

    customer_share: Decimal
    customers: int
    revenue: Decimal
    revenue_share: Decimal | None


@attrs.frozen(kw_only=True)
class ParetoResult:
    """Pareto analysis of one currency.

    Attributes:
        customers_for_revenue_share: The fewest top customers whose revenue reaches the
            spec's ``revenue_share`` of the total (``None`` when the total is not positive).
    """

    currency: str
    customers: int
    revenue: Decimal
    points: tuple[ParetoPoint, ...]
    customers_for_revenue_share: int | None
    explanation: Explanation


@item_types(summaries=CurrencySummary)
def pareto(spec: ParetoSpec, summaries: Iterable[CurrencySummary]) -> tuple[ParetoResult, ...]:
    """Pareto analysis per currency, ordered by currency."""
    require_spec(spec, ParetoSpec, "pareto")
    by_currency: dict[str, list[Decimal]] = {}
    for s in summaries:
        by_currency.setdefault(s.currency, []).append(s.total)
    out = []
    for currency in sorted(by_currency):
        totals = sorted(by_currency[currency], reverse=True)
        n, revenue = len(totals), sum(totals, Decimal(0))
        prefix, running = [], Decimal(0)
        for value in totals:
            running += value
            prefix.append(running)
        tops = []
        for share in spec.top_shares:
            top = max(1, math.ceil(share * n))
            tops.append((top, prefix[top - 1]))
        needed = None
        if revenue > 0:
            goal = spec.revenue_share * revenue
            needed = next(i + 1 for i, v in enumerate(prefix) if v >= goal)
        out.append(pareto_result(spec, currency, n, revenue, tops, needed))
    return tuple(out)


def pareto_result(
    spec: ParetoSpec,
    currency: str,
    customers: int,
    revenue: Decimal,
    tops: Sequence[tuple[int, Decimal]],
    needed: int | None,
) -> ParetoResult:
    """The :class:`ParetoResult` of one currency, explained.

    ``tops`` holds, for each of the spec's ``top_shares``, how many top customers it is
    and their revenue; ``needed`` is how few top customers bring the spec's
    ``revenue_share`` (``None`` when ``revenue`` is not positive). :func:`pareto`
    computes them itself; an engine that computed them elsewhere (the SQL storage)
    builds the same result here.
    """
    points = tuple(
        ParetoPoint(
            customer_share=share,
            customers=top,
            revenue=top_revenue,
            revenue_share=divide(top_revenue, revenue) if revenue > 0 else None,
        )
        for share, (top, top_revenue) in zip(spec.top_shares, tops, strict=True)
    )
    factors = tuple(
        Factor(name=f"top_{p.customer_share}", value=p.revenue_share, rule="revenue share")
        for p in points
    )
    n = customers
    return ParetoResult(
        currency=currency,
        customers=n,
        revenue=revenue,
        points=points,
        customers_for_revenue_share=needed,
        explanation=Explanation(
            rule=spec.kind,
            outcome=f"{needed} of {n}" if needed is not None else "no positive revenue",
            factors=factors,
            reason=(
                f"{needed} of {n} customers bring {spec.revenue_share} of {revenue} {currency}"
                if needed is not None
                else f"revenue {revenue} {currency} is not positive"
            ),
        ),
    )

"""RFM: score recency, frequency and monetary value 1..k and name the segment.

Scores (the tie rule). Cut points are computed once from the sorted values of the
customers scored, then applied as thresholds, as a SQL ``CASE`` can apply them:

* quantiles: for ``k`` scores, cut point ``j`` (``j = 1 .. k-1``) is the value at
  1-based position ``ceil(j * n / k)`` of the values sorted from worst to best
  (frequency and monetary ascending, recency descending);
* frequency and monetary score ``1 +`` the number of cut points strictly *below* the
  value; recency scores ``1 +`` the number of cut points strictly *above* it (fewer
  days since the last purchase is better).

So equal values always get equal scores, whatever the order of the rows, and a
score ``s`` still means "better than the ``(s-1)/k`` quantile". When many customers
share a value the cut points repeat and some scores are simply not used: when 60% of
customers bought once, the cut points of frequency are ``1, 1, 1, 2`` with five
scores, the one-time buyers all score 1 and two purchases score 4 (pandas' ``qcut``
refuses such data with "bin edges must be unique"). With fixed thresholds the spec
gives the ``k - 1`` cut points of each dimension itself, ascending.

Segments. A :class:`SegmentRule` names the score combinations it covers (an empty
score set covers every score); the rules of a spec must cover every combination of
the three scores exactly once, or the spec is refused with ``segmentation.segment_gap``
or ``segmentation.segment_overlap``. :data:`DEFAULT_SEGMENTS` is the usual map over
recency and frequency for five scores.

>>> from crmcore.rules.segmentation import RfmSpec
>>> RfmSpec().scores, len(RfmSpec().segments)
(5, 11)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import product

import attrs

from crmcore.errors import Problem
from crmcore.models import Model
from crmcore.models._base import checks, in_range, non_blank
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import (
    Explanation,
    Factor,
    ascending_score,
    currency_problem,
    descending_score,
    quantile_cut_points,
    refuse,
    require_spec,
)
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = [
    "DEFAULT_SEGMENTS",
    "MonetaryBasis",
    "RfmCutPoints",
    "RfmResult",
    "RfmScore",
    "RfmSpec",
    "ScoreMethod",
    "SegmentRule",
    "Verdicts",
    "assign_rfm",
    "pick_currency",
    "rfm",
    "rfm_cut_points",
    "rfm_monetary",
    "rfm_score",
    "rfm_verdicts",
    "single_currency",
]


class ScoreMethod(enum.StrEnum):
    """How the cut points of a score are found."""

    QUANTILES = "quantiles"
    THRESHOLDS = "thresholds"


class MonetaryBasis(enum.StrEnum):
    """Which money value the M of RFM scores."""

    TOTAL = "total"
    MEAN = "mean"


@attrs.frozen(kw_only=True)
class SegmentRule(Model):
    """A named segment and the score combinations it covers.

    Attributes:
        name: The segment's name (``"Champions"``).
        recency: The recency scores it covers; empty covers every score.
        frequency: The frequency scores it covers; empty covers every score.
        monetary: The monetary scores it covers; empty covers every score.
    """

    name: str = attrs.field(metadata=checks(non_blank))
    recency: tuple[int, ...] = ()
    frequency: tuple[int, ...] = ()
    monetary: tuple[int, ...] = ()

    def covers(self, r: int, f: int, m: int) -> bool:
        """True when the rule covers recency ``r``, frequency ``f`` and monetary ``m``."""
        return (
            (not self.recency or r in self.recency)
            and (not self.frequency or f in self.frequency)
            and (not self.monetary or m in self.monetary)
        )

    def describe(self) -> str:
        """The rule in words: ``recency 4..5, frequency 4..5``."""
        parts = [
            f"{name} in {', '.join(map(str, scores))}"
            for name, scores in (
                ("recency", self.recency),
                ("frequency", self.frequency),
                ("monetary", self.monetary),
            )
            if scores
        ]
        return "; ".join(parts) or "every score"


def _rule(name: str, recency: tuple[int, ...], frequency: tuple[int, ...]) -> SegmentRule:
    return SegmentRule(name=name, recency=recency, frequency=frequency)


DEFAULT_SEGMENTS: tuple[SegmentRule, ...] = (
    _rule("Champions", (5,), (4, 5)),
    _rule("Loyal", (3, 4), (4, 5)),
    _rule("Potential Loyalist", (4, 5), (2, 3)),
    _rule("New", (5,), (1,)),
    _rule("Promising", (4,), (1,)),
    _rule("Need Attention", (3,), (3,)),
    _rule("About to Sleep", (3,), (1, 2)),
    _rule("At Risk", (1, 2), (3, 4)),
    _rule("Can't Lose", (1, 2), (5,)),
    _rule("Hibernating", (2,), (1, 2)),
    _rule("Lost", (1,), (1, 2)),
)
"""The usual RFM segment map over recency and frequency scores 1..5 (monetary: any).

Every one of the 25 recency-frequency combinations is covered exactly once.
"""


@attrs.frozen(kw_only=True)
class RfmSpec(Spec):
    """How to score and name RFM segments.

    Attributes:
        scores: ``k``, the number of scores of each dimension (2 to 10).
        method: Quantile cut points from the data, or the fixed ones given here.
        recency_cut_points: With fixed thresholds, ``k - 1`` ascending day counts.
        frequency_cut_points: With fixed thresholds, ``k - 1`` ascending purchase counts.
        monetary_cut_points: With fixed thresholds, ``k - 1`` ascending amounts.
        monetary: Score the total or the mean purchase amount.
        currency: Score only summaries in this currency; ``None`` requires that all
            summaries given share one currency.
        segments: The segment map; empty assigns no names. The default,
            :data:`DEFAULT_SEGMENTS`, is for five scores: with other ``scores`` give
            ``segments=()`` (in JSON ``"segments": []``) or a map of your own.
    """

    TAG = "rfm"
    kind: str = "rfm"
    scores: int = attrs.field(default=5, metadata=checks(in_range(2, 10)))
    method: ScoreMethod = ScoreMethod.QUANTILES
    recency_cut_points: tuple[Decimal, ...] = ()
    frequency_cut_points: tuple[Decimal, ...] = ()
    monetary_cut_points: tuple[Decimal, ...] = ()
    monetary: MonetaryBasis = MonetaryBasis.TOTAL
    currency: str | None = None
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS

    def _spec_invariants(self) -> Iterable[Problem]:
        for name in ("recency_cut_points", "frequency_cut_points", "monetary_cut_points"):
            cuts = getattr(self, name)
            if self.method is ScoreMethod.QUANTILES and cuts:
                yield Problem(
                    code="segmentation.thresholds_invalid",
                    path=f"$.{name}",
                    message="quantile scoring computes its cut points; give none",
                )
            elif self.method is ScoreMethod.THRESHOLDS and (
                len(cuts) != self.scores - 1 or list(cuts) != sorted(cuts)
            ):
                yield Problem(
                    code="segmentation.thresholds_invalid",
                    path=f"$.{name}",
                    message=f"needs {self.scores - 1} cut points in ascending order",
                )
        currency = currency_problem(self.currency)
        if currency is not None:
            yield currency
        if self.segments == DEFAULT_SEGMENTS and self.scores != 5:
            yield Problem(
                code="segmentation.score_invalid",
                path="$.segments",
                message=f"the default segment map (DEFAULT_SEGMENTS) names 5 scores, not "
                f"{self.scores}: give segments=() for score codes only, or a map of your own",
            )
        else:
            yield from segment_map_problems(self.segments, self.scores)

    def segment_of(self, r: int, f: int, m: int) -> SegmentRule | None:
        """The rule covering the scores, or ``None`` when the spec names no segments."""
        for rule in self.segments:
            if rule.covers(r, f, m):
                return rule
        return None


def segment_map_problems(rules: Sequence[SegmentRule], scores: int) -> Iterator[Problem]:
    """Yield a problem for each score out of range, and each gap and overlap of ``rules``."""
    if not rules:
        return
    for index, rule in enumerate(rules):
        for name in ("recency", "frequency", "monetary"):
            bad = [s for s in getattr(rule, name) if not 1 <= s <= scores]
            if bad:
                yield Problem(
                    code="segmentation.score_invalid",
                    path=f"$.segments[{index}].{name}",
                    message=f"scores run from 1 to {scores}, got {bad}",
                )
    span = range(1, scores + 1)
    for r, f, m in product(span, span, span):
        names = [rule.name for rule in rules if rule.covers(r, f, m)]
        if not names:
            yield Problem(
                code="segmentation.segment_gap",
                path="$.segments",
                message=f"no segment covers recency {r}, frequency {f}, monetary {m}",
            )
        elif len(names) > 1:
            yield Problem(
                code="segmentation.segment_overlap",
                path="$.segments",
                message=f"recency {r}, frequency {f}, monetary {m} is in {', '.join(names)}",
            )


@attrs.frozen(kw_only=True)
class RfmCutPoints:
    """The cut points an RFM evaluation applied, ascending, and the currency scored."""

    currency: str
    recency: tuple[Decimal, ...]
    frequency: tuple[Decimal, ...]
    monetary: tuple[Decimal, ...]


@attrs.frozen(kw_only=True)
class RfmScore:
    """One customer's RFM scores and segment, with the explanation."""

    customer_id: str
    currency: str
    recency_days: int
    frequency: int
    monetary: Decimal
    recency_score: int
    frequency_score: int
    monetary_score: int
    segment: str | None
    explanation: Explanation

    @property
    def code(self) -> str:
        """The three scores as one code, recency first: ``"545"``."""
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"


@attrs.frozen(kw_only=True)
class RfmResult:
    """Cut points and each customer's scores, ordered by customer id."""

    cut_points: RfmCutPoints
    scores: tuple[RfmScore, ...]


@item_types(summaries=CurrencySummary)
def single_currency(
    summaries: Iterable[CurrencySummary], currency: str | None, rule: str
) -> tuple[str, list[CurrencySummary]]:
    """Keep the summaries of ``currency``; with ``None`` require that there is only one.

    With ``None`` and no summaries at all the currency is ``"XXX"`` (ISO 4217's code
    for no currency).
    """
    rows = list(summaries)
    if currency is not None:
        return currency, [s for s in rows if s.currency == currency]
    return pick_currency((s.currency for s in rows), None, rule), rows


def pick_currency(currencies: Iterable[str], currency: str | None, rule: str) -> str:
    """The currency a one-currency rule scores, given the currencies of its data.

    ``currency`` when set; otherwise the only currency found (``"XXX"`` when there is
    none), and ``segmentation.currency_mixed`` when there are several.
    """
    if currency is not None:
        return currency
    found = sorted(set(currencies))
    if len(found) > 1:
        raise refuse(
            "segmentation.currency_mixed",
            "$.currency",
            f"summaries in {', '.join(found)}: set the spec's currency, amounts are never added",
            rule,
        )
    return found[0] if found else "XXX"


def rfm_monetary(spec: RfmSpec, summary: CurrencySummary) -> Decimal:
    """The money value the spec's M scores: the summary's total or its mean."""
    return summary.total if spec.monetary is MonetaryBasis.TOTAL else summary.mean


@item_types(summaries=CurrencySummary)
def rfm_cut_points(spec: RfmSpec, summaries: Iterable[CurrencySummary]) -> RfmCutPoints:
    """Compute the cut points once from the summaries (or take the spec's fixed ones)."""
    currency, rows = single_currency(summaries, spec.currency, spec.kind)
    if spec.method is ScoreMethod.THRESHOLDS:
        return RfmCutPoints(
            currency=currency,
            recency=spec.recency_cut_points,
            frequency=spec.frequency_cut_points,
            monetary=spec.monetary_cut_points,
        )
    k = spec.scores
    recency = sorted((Decimal(s.recency_days) for s in rows), reverse=True)
    return RfmCutPoints(
        currency=currency,
        recency=tuple(sorted(quantile_cut_points(recency, k))),
        frequency=quantile_cut_points(sorted(Decimal(s.purchases) for s in rows), k),
        monetary=quantile_cut_points(sorted(rfm_monetary(spec, s) for s in rows), k),
    )


_UP = "score = 1 + number of cut points strictly below the value"
_DOWN = "score = 1 + number of cut points strictly above the value"


Verdicts = dict[tuple[int, int, int], tuple[str | None, str]]
"""Each score combination's segment name (or ``None``) and the reason, in words."""


def rfm_verdicts(spec: RfmSpec) -> Verdicts:
    """The segment and reason of every combination of scores, from the spec's map."""
    span = range(1, spec.scores + 1)
    verdicts: Verdicts = {}
    for combination in product(span, span, span):
        rule = spec.segment_of(*combination)
        code = "R{} F{} M{}".format(*combination)
        verdicts[combination] = (
            (rule.name, f"{code}: {rule.name} covers {rule.describe()}")
            if rule is not None
            else (None, f"{code}: no segment map")
        )
    return verdicts


def rfm_score(
    spec: RfmSpec,
    cuts: RfmCutPoints,
    verdicts: Verdicts,
    summary: CurrencySummary,
    scores: tuple[int, int, int],
) -> RfmScore:
    """The :class:`RfmScore` of ``summary`` given its three ``scores``, with its explanation.

    :func:`assign_rfm` computes the scores itself; an engine that computed them
    elsewhere (the SQL storage, with ``CASE``) builds the same result here.
    """
    s = summary
    r, f, m = scores
    money = rfm_monetary(spec, s)
    recency, frequency = Decimal(s.recency_days), Decimal(s.purchases)
    name, reason = verdicts[r, f, m]
    factors = (
        Factor(name="recency_days", value=recency, score=r, cut_points=cuts.recency, rule=_DOWN),
        Factor(name="frequency", value=frequency, score=f, cut_points=cuts.frequency, rule=_UP),
        Factor(
            name=f"monetary_{spec.monetary.value}",
            value=money,
            score=m,
            cut_points=cuts.monetary,
            rule=_UP,
        ),
    )
    return RfmScore(
        customer_id=s.customer_id,
        currency=s.currency,
        recency_days=s.recency_days,
        frequency=s.purchases,
        monetary=money,
        recency_score=r,
        frequency_score=f,
        monetary_score=m,
        segment=name,
        explanation=Explanation(
            rule=spec.kind, outcome=name or f"{r}{f}{m}", factors=factors, reason=reason
        ),
    )


@item_types(summaries=CurrencySummary)
def assign_rfm(
    spec: RfmSpec, cuts: RfmCutPoints, summaries: Iterable[CurrencySummary]
) -> tuple[RfmScore, ...]:
    """Score each summary in ``cuts.currency`` against ``cuts`` and name its segment."""
    verdicts = rfm_verdicts(spec)
    out: list[RfmScore] = []
    for s in sorted(summaries, key=lambda s: s.customer_id):
        if s.currency != cuts.currency:
            continue
        scores = (
            descending_score(Decimal(s.recency_days), cuts.recency),
            ascending_score(Decimal(s.purchases), cuts.frequency),
            ascending_score(rfm_monetary(spec, s), cuts.monetary),
        )
        out.append(rfm_score(spec, cuts, verdicts, s, scores))
    return tuple(out)


@item_types(summaries=CurrencySummary)
def rfm(spec: RfmSpec, summaries: Iterable[CurrencySummary]) -> RfmResult:
    """Score and segment customers: :func:`rfm_cut_points`, then :func:`assign_rfm`."""
    require_spec(spec, RfmSpec, "rfm")
    rows = list(summaries)
    cuts = rfm_cut_points(spec, rows)
    return RfmResult(cut_points=cuts, scores=assign_rfm(spec, cuts, rows))

"""RFM: quantile and fixed cut points, the tie rule, and the segment map."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.rules.segmentation import (
    DEFAULT_SEGMENTS,
    CurrencySummary,
    RfmSpec,
    ScoreMethod,
    SegmentRule,
    assign_rfm,
    rfm,
    rfm_cut_points,
)
from crmcore.rules.segmentation._common import quantile_cut_points
from crmcore.serialization import from_json, to_json

from ._data import summary


def cuts(*values: int) -> tuple[Decimal, ...]:
    """Expected cut points as the Decimals the rules return."""
    return tuple(map(Decimal, values))


def test_ten_distinct_values_give_two_customers_per_score() -> None:
    """Quantile cut points split ten distinct values into five scores of two."""
    rows = [summary(f"c{i}", recency=i, purchases=i, total=i * 10) for i in range(1, 11)]
    result = rfm(RfmSpec(), rows)
    assert result.cut_points.frequency == cuts(2, 4, 6, 8)
    assert result.cut_points.recency == cuts(3, 5, 7, 9)
    by_id = {s.customer_id: s for s in result.scores}
    assert [by_id[f"c{i}"].frequency_score for i in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [by_id[f"c{i}"].recency_score for i in range(1, 11)] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert by_id["c1"].code == "511"


def test_many_one_time_buyers_do_not_break_quantiles() -> None:
    """When 60% bought once the cut points repeat, all once-buyers score 1, others above."""
    rows = [summary(f"a{i}", purchases=1) for i in range(6)]
    rows += [summary("b1", purchases=2), summary("b2", purchases=2), summary("b3", purchases=3)]
    rows.append(summary("b4", purchases=7))
    result = rfm(RfmSpec(), rows)
    assert result.cut_points.frequency == cuts(1, 1, 1, 2)
    scores = {s.customer_id: s.frequency_score for s in result.scores}
    assert {scores[f"a{i}"] for i in range(6)} == {1}
    assert (scores["b1"], scores["b2"], scores["b3"], scores["b4"]) == (4, 4, 5, 5)


def test_fixed_thresholds_are_applied_as_given() -> None:
    """With thresholds the spec's own cut points decide the scores."""
    spec = RfmSpec(
        scores=3,
        method=ScoreMethod.THRESHOLDS,
        recency_cut_points=(Decimal(30), Decimal(90)),
        frequency_cut_points=(Decimal(1), Decimal(4)),
        monetary_cut_points=(Decimal(100), Decimal(1000)),
        segments=(),
    )
    (s,) = rfm(spec, [summary("c", recency=30, purchases=5, total=100)]).scores
    assert (s.recency_score, s.frequency_score, s.monetary_score, s.segment) == (2, 3, 1, None)


def test_every_assignment_explains_itself() -> None:
    """An assignment carries its values, scores and cut points, and survives JSON."""
    rows = [summary(f"c{i}", recency=i, purchases=11 - i, total=i) for i in range(1, 11)]
    result = rfm(RfmSpec(), rows)
    best = result.scores[0]
    assert best.segment == "Champions"
    factors = {f.name: f for f in best.explanation.factors}
    assert factors["recency_days"].cut_points == result.cut_points.recency
    assert factors["frequency"].score == best.frequency_score
    assert "Champions" in best.explanation.reason
    assert from_json(to_json(result), type(result)) == result


def test_the_default_map_covers_every_combination_once() -> None:
    """Each of the 125 score combinations falls in exactly one default segment."""
    names = {rule.name for rule in DEFAULT_SEGMENTS}
    assert len(names) == 11
    spec = RfmSpec()
    for r in range(1, 6):
        for f in range(1, 6):
            assert sum(rule.covers(r, f, 3) for rule in DEFAULT_SEGMENTS) == 1
            assert spec.segment_of(r, f, 1) is not None


def test_a_map_with_gaps_or_overlaps_is_refused_with_codes() -> None:
    """A caller's map that misses or repeats a combination raises coded problems."""
    gap = (SegmentRule(name="top", recency=(2,)),)
    with pytest.raises(ValidationError) as refused:
        RfmSpec(scores=2, segments=gap)
    assert set(refused.value.codes) == {"segmentation.segment_gap"}
    overlap = (SegmentRule(name="all"), SegmentRule(name="top", recency=(2,), frequency=(2,)))
    with pytest.raises(ValidationError) as refused:
        RfmSpec(scores=2, segments=overlap)
    assert set(refused.value.codes) == {"segmentation.segment_overlap"}
    with pytest.raises(ValidationError) as refused:
        RfmSpec(scores=2, segments=(SegmentRule(name="x", recency=(3,)),))
    assert "segmentation.score_invalid" in refused.value.codes


def test_a_caller_map_that_covers_everything_is_used() -> None:
    """A complete caller map names segments by its own rules."""
    mine = (SegmentRule(name="recent", recency=(2,)), SegmentRule(name="old", recency=(1,)))
    rows = [summary("a", recency=1), summary("b", recency=50)]
    scores = rfm(RfmSpec(scores=2, segments=mine), rows).scores
    assert [s.segment for s in scores] == ["recent", "old"]


def test_bad_thresholds_and_mixed_currencies_are_refused() -> None:
    """Wrong cut point counts, and summaries in two currencies without a currency, fail."""
    with pytest.raises(ValidationError) as refused:
        RfmSpec(method=ScoreMethod.THRESHOLDS, recency_cut_points=(Decimal(1),))
    assert "segmentation.thresholds_invalid" in refused.value.codes
    with pytest.raises(ValidationError) as refused:
        RfmSpec(recency_cut_points=(Decimal(1),) * 4)
    assert "segmentation.thresholds_invalid" in refused.value.codes
    rows = [summary("a", currency="EUR"), summary("b", currency="CNY")]
    with pytest.raises(ValidationError) as refused:
        rfm(RfmSpec(), rows)
    assert refused.value.codes == ("segmentation.currency_mixed",)
    assert [s.customer_id for s in rfm(RfmSpec(currency="EUR"), rows).scores] == ["a"]


def test_quantile_cut_points_of_nothing_are_empty() -> None:
    """No customers give no cut points, and every score is 1."""
    assert quantile_cut_points([], 5) == ()
    assert rfm(RfmSpec(), []).scores == ()


ROWS = st.lists(
    st.builds(
        summary,
        customer=st.text("abcdef", min_size=1, max_size=4),
        recency=st.integers(0, 20),
        purchases=st.integers(1, 6),
        total=st.integers(-5, 50),
    ),
    unique_by=lambda s: s.customer_id,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, data=st.data(), k=st.integers(2, 7))
def test_scores_never_depend_on_row_order_and_ties_score_alike(
    rows: list[CurrencySummary], data: st.DataObject, k: int
) -> None:
    """Shuffled rows give identical results; equal values get equal, monotone scores."""
    spec = RfmSpec(scores=k, segments=DEFAULT_SEGMENTS if k == 5 else ())
    result = rfm(spec, rows)
    assert rfm(spec, data.draw(st.permutations(rows))) == result
    scores = result.scores
    for a in scores:
        for b in scores:
            if a.frequency <= b.frequency:
                assert a.frequency_score <= b.frequency_score
            if a.monetary <= b.monetary:
                assert a.monetary_score <= b.monetary_score
            if a.recency_days <= b.recency_days:
                assert a.recency_score >= b.recency_score
        assert 1 <= a.recency_score <= k
        assert 1 <= a.frequency_score <= k
    assert assign_rfm(spec, rfm_cut_points(spec, rows), rows) == scores

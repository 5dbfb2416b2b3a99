"""Pyramid, Pareto, classes, lifecycle, relationship, lifetime value, satisfaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    Complaint,
    Customer,
    Identifier,
    IdentifierKind,
    InteractionChannel,
    LifecycleStage,
)
from crmcore.rules.segmentation import (
    RANK_TIERS,
    SEGMENTATION_SPEC_TYPES,
    HistoricValueSpec,
    LifecycleSpec,
    ParetoSpec,
    ProfitabilitySpec,
    PyramidMethod,
    PyramidSpec,
    RelationshipLevel,
    RelationshipSpec,
    RfmSpec,
    SatisfactionLevel,
    SatisfactionSpec,
    SegmentationSpec,
    SegmentRule,
    Tier,
    ValueBasis,
    ValueClassSpec,
    assign_tiers,
    complaint_satisfaction,
    customer_equity,
    historic_lifetime_values,
    pareto,
    profitability_classes,
    pyramid_cut_points,
    relationship_level,
    satisfaction_gap,
    suggest_stages,
    value_classes,
    value_pyramid,
)
from crmcore.serialization import from_json, to_json

from ._data import AS_OF, summary


def test_brief_pyramid_thresholds_and_their_edges() -> None:
    """VIP over 58,900; 58,900 itself is large; 19,000 large; 4,820 medium; below small."""
    rows = [
        summary("a", total="58900.01"),
        summary("b", total=58900),
        summary("c", total=19000),
        summary("d", total="18999.99"),
        summary("e", total=4820),
        summary("f", total="4819.99"),
    ]
    result = value_pyramid(PyramidSpec(), rows)
    assert [a.tier for a in result.assignments] == [
        "VIP", "large", "large", "medium", "medium", "small"
    ]  # fmt: skip
    assert result.counts() == {"VIP": 1, "large": 2, "medium": 2, "small": 1}
    assert result.assignments[0].explanation.factors[0].cut_points == (
        Decimal(58900),
        Decimal(19000),
        Decimal(4820),
    )


def test_rank_share_pyramid_keeps_ties_together() -> None:
    """By rank shares the top share is cut at a rank, and ties with the cut are all in."""
    spec = PyramidSpec(
        method=PyramidMethod.SHARES,
        currency=None,
        tiers=(Tier(name="top", share=Decimal("0.2")), Tier(name="rest")),
    )
    rows = [summary(f"c{i}", total=v) for i, v in enumerate([90, 80, 80, 10, 5, 5, 4, 3, 2, 1])]
    result = value_pyramid(spec, rows)
    assert result.cut_points == (Decimal(80),)
    assert result.counts() == {"top": 3, "rest": 7}
    assert value_pyramid(PyramidSpec(method=PyramidMethod.SHARES, tiers=RANK_TIERS), rows)


def test_rank_shares_round_the_customer_count_up() -> None:
    """A quarter of ten customers is three: ceil(0.25 * 10), for the pyramid and Pareto."""
    spec = PyramidSpec(
        method=PyramidMethod.SHARES,
        tiers=(Tier(name="top", share=Decimal("0.25")), Tier(name="rest")),
    )
    rows = [summary(f"c{i}", total=100 - i) for i in range(10)]
    assert value_pyramid(spec, rows).counts() == {"top": 3, "rest": 7}
    (result,) = pareto(ParetoSpec(top_shares=(Decimal("0.25"),)), rows)
    assert (result.points[0].customers, result.points[0].revenue) == (3, Decimal(297))


def test_bad_tiers_are_refused() -> None:
    """Rising minima, a last tier with a minimum, or shares over 1 are refused."""
    for tiers, method in (
        ((Tier(name="a", minimum=Decimal(1)), Tier(name="b", minimum=Decimal(5))), "thresholds"),
        ((Tier(name="a", minimum=Decimal(5)), Tier(name="b", minimum=Decimal(1))), "thresholds"),
        ((Tier(name="a", share=Decimal("0.8")), Tier(name="b", share=Decimal("0.5"))), "shares"),
        ((Tier(name="a"),), "thresholds"),
    ):
        with pytest.raises(ValidationError) as refused:
            PyramidSpec(method=PyramidMethod(method), tiers=tiers)
        assert "segmentation.tiers_invalid" in refused.value.codes


def test_pareto_shares_per_currency() -> None:
    """The top 20% bring their share of revenue; the fewest customers reaching 80% counted."""
    rows = [
        summary(f"c{i}", total=v) for i, v in enumerate([500, 300, 100, 50, 20, 10, 10, 5, 3, 2])
    ]
    rows.append(summary("e", total=7, currency="EUR"))
    cny, eur = pareto(ParetoSpec(), rows)
    assert (cny.currency, cny.revenue, cny.customers) == ("CNY", Decimal(1000), 10)
    (point,) = cny.points
    assert (point.customers, point.revenue, point.revenue_share) == (
        2,
        Decimal(800),
        Decimal("0.8"),
    )
    assert cny.customers_for_revenue_share == 2
    assert (eur.customers, eur.customers_for_revenue_share) == (1, 1)
    with pytest.raises(ValidationError):
        ParetoSpec(top_shares=(Decimal(0),))


def test_profitability_classes() -> None:
    """Good at or above the good margin, bad below the bad margin, unknown without costs."""
    spec = ProfitabilitySpec(good_margin_at_least=Decimal(100))
    rows = [summary("a", margin=100), summary("b", margin=99), summary("c", margin=-1)]
    rows.append(summary("d"))
    got = [a.assigned for a in profitability_classes(spec, rows)]
    assert got == ["good", "not_good", "bad", "unknown"]
    with pytest.raises(ValidationError):
        ProfitabilitySpec(good_margin_at_least=Decimal(0), bad_margin_below=Decimal(5))


def test_value_classes() -> None:
    """Top share by value is most valuable, top headroom most growable, negative below zero."""
    rows = [summary(f"c{i}", margin=m) for i, m in enumerate([100, 50, 40, 30, 20, -5])]
    potentials = {"c2": Decimal(60), "c3": Decimal(300), "c4": Decimal(25)}
    spec = ValueClassSpec(most_valuable_share=Decimal("0.2"), most_growable_share=Decimal("0.5"))
    got = {a.customer_id: a.assigned for a in value_classes(spec, rows, potentials=potentials)}
    assert got == {
        "c0": "most_valuable",
        "c1": "maintain",
        "c2": "most_growable",  # headrooms 270, 20, 5: ceil(0.5 * 3) = 2 of them
        "c3": "most_growable",
        "c4": "maintain",
        "c5": "below_zero",
    }
    by_revenue = ValueClassSpec(basis=ValueBasis.REVENUE)
    assert value_classes(by_revenue, [summary("x")])[0].assigned == "most_valuable"


def test_lifecycle_suggestions_with_reasons() -> None:
    """Purchases suggest moves up, lapsing and winning back; the user's stage is untouched."""
    people = {
        "p1": Customer.person_named(family="A", id="p1", lifecycle_stage=LifecycleStage.PROSPECT),
        "p2": Customer.person_named(family="B", id="p2", lifecycle_stage=LifecycleStage.FIRST_TIME),
        "p3": Customer.person_named(family="C", id="p3", lifecycle_stage=LifecycleStage.CLIENT),
        "p4": Customer.person_named(family="D", id="p4", lifecycle_stage=LifecycleStage.LAPSED),
        "p5": Customer.person_named(
            family="E", id="p5", lifecycle_stage=LifecycleStage.DISQUALIFIED
        ),
        "p6": Customer.person_named(family="F", id="p6", lifecycle_stage=LifecycleStage.ADVOCATE),
        "p7": Customer.person_named(
            family="G",
            id="p7",
            lifecycle_stage=LifecycleStage.REPEAT,
            identifiers=(Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value="M1"),),
        ),
    }
    rows = [
        summary("p1"),
        summary("p2", purchases=7),
        summary("p3", recency=400, purchases=9),
        summary("p4", recency=3, purchases=2),
        summary("p5", purchases=9),
        summary("p6", purchases=2),
        summary("p7", purchases=2),
    ]
    got = {
        s.customer_id: (s.current.value, s.suggested.value)
        for s in suggest_stages(LifecycleSpec(), people.values(), rows, as_of=AS_OF)
    }
    assert got == {
        "p1": ("prospect", "first_time"),
        "p2": ("first_time", "client"),
        "p3": ("client", "lapsed"),
        "p4": ("lapsed", "repeat"),
        "p7": ("repeat", "member"),
    }
    (p3,) = suggest_stages(LifecycleSpec(), [people["p3"]], rows, as_of=AS_OF)
    assert "400 days" in p3.explanation.reason


@pytest.mark.parametrize(
    ("rate", "customers", "level"),
    [
        ("0.5", 5000, "accountable"),
        ("0.5", 500, "proactive"),
        ("0.5", 5, "partnership"),
        ("0.2", 5000, "reactive"),
        ("0.2", 500, "accountable"),
        ("0.2", 5, "proactive"),
        ("0.05", 5000, "basic"),
        ("0.05", 500, "reactive"),
        ("0.05", 5, "accountable"),
    ],
)
def test_relationship_matrix(rate: str, customers: int, level: str) -> None:
    """Each cell of Kotler's matrix gives its level."""
    got = relationship_level(RelationshipSpec(), margin_rate=Decimal(rate), customers=customers)
    assert got.level is RelationshipLevel(level)
    assert got.explanation.outcome == level


def test_historic_value_and_customer_equity() -> None:
    """Historic value per customer; equity adds active customers and the new ones."""
    rows = [summary("a", total=100), summary("b", total=50, recency=400), summary("c", total=9)]
    rows.append(summary("d", total=1, currency="EUR"))
    spec = HistoricValueSpec(active_within_days=365)
    values = historic_lifetime_values(spec, rows)
    assert [(v.customer_id, v.value, v.active) for v in values][:2] == [
        ("a", Decimal(100), True),
        ("b", Decimal(50), False),
    ]
    cny, eur = customer_equity(spec, rows, new_customers=2, value_per_new_customer=Decimal(10))
    assert (cny.current_customers, cny.current_value, cny.equity) == (2, Decimal(109), Decimal(129))
    assert (eur.currency, eur.equity) == ("EUR", Decimal(21))
    with pytest.raises(ValidationError):
        customer_equity(spec, rows, new_customers=-1)


def test_satisfaction_gap_and_complaints() -> None:
    """Perceived minus expected: below zero dissatisfied, zero satisfied, above delighted."""
    spec = SatisfactionSpec()
    levels = [
        satisfaction_gap(spec, perceived=Decimal(p), expected=Decimal(3)).level for p in (2, 3, 4)
    ]
    assert levels == [
        SatisfactionLevel.DISSATISFIED,
        SatisfactionLevel.SATISFIED,
        SatisfactionLevel.DELIGHTED,
    ]
    loose = SatisfactionSpec(tolerance=Decimal("0.5"))
    assert satisfaction_gap(loose, perceived=Decimal("3.4"), expected=Decimal(3)).level.value == (
        "satisfied"
    )
    complaint = Complaint(
        customer_id="c",
        received_at=AS_OF,
        channel=InteractionChannel.PHONE,
        category="delivery",
        description="late",
        satisfaction=2,
    )
    (got,) = complaint_satisfaction(spec, [complaint, dt_free(complaint)])
    assert (got.level, got.subject_id) == (SatisfactionLevel.DELIGHTED, complaint.id)


def dt_free(complaint: Complaint) -> Complaint:
    """The same complaint without a recorded satisfaction."""
    import attrs

    return attrs.evolve(complaint, id="other", satisfaction=None)


SPECS = st.one_of(
    st.builds(
        RfmSpec,
        scores=st.just(2),
        segments=st.just((SegmentRule(name="all"),)) | st.just(()),
        currency=st.none() | st.sampled_from(["CNY", "EUR"]),
    ),
    st.builds(RfmSpec),
    st.builds(PyramidSpec, currency=st.none() | st.just("EUR")),
    st.builds(PyramidSpec, method=st.just(PyramidMethod.SHARES), tiers=st.just(RANK_TIERS)),
    st.builds(
        ParetoSpec,
        top_shares=st.lists(st.sampled_from([Decimal("0.1"), Decimal("0.2")]), min_size=1).map(
            tuple
        ),
    ),
    st.builds(ProfitabilitySpec, good_margin_at_least=st.integers(0, 10**6).map(Decimal)),
    st.builds(ValueClassSpec, basis=st.sampled_from(ValueBasis)),
    st.builds(LifecycleSpec, lapsed_after_days=st.integers(1, 1000)),
    st.builds(RelationshipSpec, many_customers_at_least=st.integers(100, 10**6)),
    st.builds(HistoricValueSpec, active_within_days=st.none() | st.integers(1, 999)),
    st.builds(SatisfactionSpec, tolerance=st.integers(0, 3).map(Decimal)),
)


@settings(max_examples=150, deadline=None)
@given(spec=SPECS)
def test_specs_round_trip_as_json(spec: object) -> None:
    """Every segmentation spec survives JSON, chosen by its kind tag."""
    text = to_json(spec)
    assert from_json(text, SegmentationSpec) == spec  # type: ignore[arg-type]
    assert from_json(text, type(spec)) == spec


def test_every_spec_type_round_trips_with_defaults() -> None:
    """Each registered spec class, with its defaults, round-trips through the tagged union."""
    assert len(SEGMENTATION_SPEC_TYPES) == 10
    for kind, cls in SEGMENTATION_SPEC_TYPES.items():
        spec = cls()
        assert spec.kind == kind  # type: ignore[attr-defined]
        assert from_json(to_json(spec), SegmentationSpec) == spec  # type: ignore[arg-type]


def test_a_wrong_kind_tag_is_refused() -> None:
    """A spec built with another kind tag is refused with spec.kind_mismatch."""
    with pytest.raises(ValidationError) as refused:
        PyramidSpec(kind="rfm")
    assert refused.value.codes == ("spec.kind_mismatch",)


@settings(max_examples=100, deadline=None)
@given(
    totals=st.lists(st.integers(-10, 100), max_size=25),
    data=st.data(),
)
def test_pyramid_and_pareto_never_depend_on_row_order(
    totals: list[int], data: st.DataObject
) -> None:
    """Shuffled rows give the same tiers, cut points and Pareto shares."""
    rows = [summary(f"c{i:02}", total=t) for i, t in enumerate(totals)]
    shuffled = data.draw(st.permutations(rows))
    spec = PyramidSpec(method=PyramidMethod.SHARES, tiers=RANK_TIERS)
    assert value_pyramid(spec, rows) == value_pyramid(spec, shuffled)
    assert pareto(ParetoSpec(), rows) == pareto(ParetoSpec(), shuffled)
    cuts = pyramid_cut_points(spec, rows)
    assert assign_tiers(spec, cuts, shuffled) == value_pyramid(spec, rows).assignments
    same: dict[Decimal, str] = {}
    for a in value_pyramid(spec, rows).assignments:
        assert same.setdefault(a.total, a.tier) == a.tier


def test_every_kind_of_result_survives_json_with_its_explanation() -> None:
    """Assignments of every rule, explanations included, round-trip through JSON."""
    rows = [summary(f"c{i}", total=v, margin=v - 10) for i, v in enumerate([5, 50, 500])]
    customer = Customer.person_named(family="A", id="c0")
    results: list[object] = [
        value_pyramid(PyramidSpec(), rows),
        *pareto(ParetoSpec(), rows),
        *profitability_classes(ProfitabilitySpec(), rows),
        *value_classes(ValueClassSpec(), rows),
        *suggest_stages(LifecycleSpec(), [customer], rows, as_of=AS_OF),
        relationship_level(RelationshipSpec(), margin_rate=Decimal("0.2"), customers=10),
        *historic_lifetime_values(HistoricValueSpec(), rows),
        *customer_equity(HistoricValueSpec(), rows),
        satisfaction_gap(SatisfactionSpec(), perceived=Decimal(1), expected=Decimal(2)),
    ]
    assert len(results) >= 12
    for result in results:
        assert from_json(to_json(result), type(result)) == result

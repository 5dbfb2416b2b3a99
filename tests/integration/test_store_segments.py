"""Segmentation over a store: in the database or by the pure rule, the same answers.

Every backend (memory runs the pure rule over a streamed read; SQLite, PostgreSQL and
MariaDB aggregate in SQL) must return exactly what the pure rules return over the same
purchases: generated purchases (Hypothesis), ties, refunds, costs, several currencies,
purchases at the edges of days, weeks and months in other UTC offsets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration._stores import BACKENDS, purchase_stores

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import InvalidArgument, ValidationError
from crmcore.models import Customer, Money, Purchase
from crmcore.rules import segmentation as rules
from crmcore.rules.segmentation import (
    RANK_TIERS,
    MonetaryBasis,
    ParetoSpec,
    Period,
    PyramidMethod,
    PyramidSpec,
    RfmSpec,
    ScoreMethod,
    SegmentSelection,
    Tier,
    select_members,
)
from crmcore.serialization import from_json, to_json
from crmcore.storage import Store, connect, segments
from crmcore.storage.sqlalchemy import _aggregates, _tiers, make_engine

AS_OF = dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)
START = dt.datetime(2025, 12, 25, tzinfo=dt.UTC)
CUSTOMERS = [f"c{i:02d}" for i in range(8)]
ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5))]


@pytest.fixture(params=BACKENDS)
def make_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[Callable[[list[Purchase]], Store]]:
    """Open a new store on the parametrised backend holding the given purchases."""
    yield from purchase_stores(request, sql_database, CUSTOMERS)


@st.composite
def purchase_lists(draw: st.DrawFn) -> list[Purchase]:
    """Purchases over a few customers: ties, refunds, costs, CNY and EUR, several offsets."""
    count = draw(st.integers(0, 30))
    out = []
    for index in range(count):
        cents = draw(st.integers(-2000, 50000) | st.sampled_from([100, 100, 2500]))
        currency = draw(st.sampled_from(["CNY", "CNY", "EUR"]))
        cost = draw(st.none() | st.integers(0, 40000))
        seconds = draw(st.integers(0, 200 * 86400) | st.sampled_from([0, 86399, 86400]))
        at = (START + dt.timedelta(seconds=seconds)).astimezone(draw(st.sampled_from(ZONES)))
        out.append(
            Purchase(
                id=f"p{index:03d}",
                customer_id=draw(st.sampled_from(CUSTOMERS)),
                purchased_at=at,
                amount=Money(amount=Decimal(cents).scaleb(-2), currency=currency),
                cost=None
                if cost is None
                else Money(amount=Decimal(cost).scaleb(-2), currency=currency),
                product="tea",
            )
        )
    return out


SPECS = [
    RfmSpec(currency="CNY"),
    RfmSpec(currency="CNY", scores=3, segments=()),
    RfmSpec(currency="EUR", monetary=MonetaryBasis.MEAN, segments=()),
    RfmSpec(
        currency="CNY",
        scores=3,
        method=ScoreMethod.THRESHOLDS,
        recency_cut_points=(Decimal("30.5"), Decimal(90)),
        frequency_cut_points=(Decimal(1), Decimal("2.5")),
        monetary_cut_points=(Decimal("99.999"), Decimal(500)),
        segments=(),
    ),
]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(purchases=purchase_lists())
def test_summaries_and_rfm_equal_the_pure_rules(
    make_store: Callable[[list[Purchase]], Store], purchases: list[Purchase]
) -> None:
    """Summaries, repeat summaries, RFM, pyramid and Pareto equal the rules' own answers."""
    store = make_store(purchases)
    summaries = rules.summarise_purchases(purchases, as_of=AS_OF)
    assert segments.purchase_summaries(store, as_of=AS_OF) == summaries
    for period in Period:
        expected = rules.repeat_summaries(purchases, as_of=AS_OF, period=period)
        assert segments.repeat_summaries(store, as_of=AS_OF, period=period) == expected
    shanghai = rules.repeat_summaries(purchases, as_of=AS_OF, tz="Asia/Shanghai")
    assert segments.repeat_summaries(store, as_of=AS_OF, tz="Asia/Shanghai") == shanghai
    for spec in SPECS:
        assert segments.rfm(store, spec, as_of=AS_OF) == rules.rfm(spec, summaries), spec
    pyramid = PyramidSpec(currency="CNY")
    assert segments.value_pyramid(store, pyramid, as_of=AS_OF) == rules.value_pyramid(
        pyramid, summaries
    )
    assert segments.pareto(store, ParetoSpec(), as_of=AS_OF) == rules.pareto(
        ParetoSpec(), summaries
    )


def test_ties_at_every_cut_point_score_alike(make_store: Callable[[list[Purchase]], Store]) -> None:
    """Half the customers bought once for the same amount on the same day: equal scores."""
    day = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    purchases = [
        Purchase(
            id=f"t{i}",
            customer_id=cid,
            purchased_at=day,
            amount=Money.of("10.00", "CNY"),
            product="tea",
        )
        for i, cid in enumerate(CUSTOMERS[:4])
    ]
    purchases += [
        Purchase(
            id=f"u{i}",
            customer_id=cid,
            purchased_at=day - dt.timedelta(days=i * 7),
            amount=Money.of(str(10 * (i + 1)), "CNY"),
            product="tea",
        )
        for i, cid in enumerate(CUSTOMERS[4:] * 2)
    ]
    store = make_store(purchases)
    spec = RfmSpec(currency="CNY")
    result = segments.rfm(store, spec, as_of=AS_OF)
    assert result == rules.rfm(spec, rules.summarise_purchases(purchases, as_of=AS_OF))
    once = {s.code for s in result.scores if s.customer_id in CUSTOMERS[:4]}
    assert len(once) == 1


def test_the_reference_path_gives_the_same_answer(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """With fast paths off, the store streams purchases through the pure rule."""
    purchases = [
        Purchase(
            id=f"r{i}",
            customer_id=CUSTOMERS[i % 3],
            purchased_at=START + dt.timedelta(days=i * 5),
            amount=Money.of(str(7 + i), "CNY"),
            product="tea",
        )
        for i in range(12)
    ]
    store = make_store(purchases)
    fast = segments.rfm(store, RfmSpec(currency="CNY"), as_of=AS_OF)
    previous = set_fast_paths(False)
    try:
        reference = segments.rfm(store, RfmSpec(currency="CNY"), as_of=AS_OF)
    finally:
        set_fast_paths(previous)
    assert fast == reference


def test_mixed_currencies_without_a_spec_currency_are_refused(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """RFM scores one currency: CNY and EUR without ``currency`` is a coded refusal."""
    purchases = [
        Purchase(
            id=f"m{i}",
            customer_id=CUSTOMERS[0],
            purchased_at=START,
            amount=Money.of("5", currency),
            product="tea",
        )
        for i, currency in enumerate(["CNY", "EUR"])
    ]
    store = make_store(purchases)
    with pytest.raises(ValidationError) as caught:
        segments.rfm(store, RfmSpec(currency=None), as_of=AS_OF)
    assert caught.value.codes == ("segmentation.currency_mixed",)
    with pytest.raises(ValidationError) as naive:
        segments.purchase_summaries(store, as_of=dt.datetime(2026, 1, 1))
    assert naive.value.codes == ("datetime.naive",)


def test_a_segment_selection_pages_counts_and_travels_as_json(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """Members of a saved selection: pages by id, a count, equal to the pure evaluation."""
    purchases = [
        Purchase(
            id=f"s{i}",
            customer_id=CUSTOMERS[i % len(CUSTOMERS)],
            purchased_at=START + dt.timedelta(days=(i * 11) % 180),
            amount=Money.of(str(5 + (i * 37) % 400), "CNY"),
            product="tea",
        )
        for i in range(40)
    ]
    store = make_store(purchases)
    summaries = rules.summarise_purchases(purchases, as_of=AS_OF)
    rfm_spec = RfmSpec(currency="CNY", scores=2, segments=())
    for selection in [
        SegmentSelection(rule=rfm_spec, segment="212"),
        SegmentSelection(rule=PyramidSpec(currency="CNY"), segment="small"),
    ]:
        assert from_json(to_json(selection), SegmentSelection) == selection
        expected = select_members(selection, summaries)
        assert expected, selection  # a selection of nobody would prove nothing
        assert segments.members(store, selection, as_of=AS_OF) == expected
        assert segments.count_members(store, selection, as_of=AS_OF) == len(expected)
        pages: list[str] = []
        after: str | None = None
        while True:
            page = segments.members(store, selection, as_of=AS_OF, after=after, limit=2)
            if not page:
                break
            pages.extend(page)
            after = page[-1]
        assert tuple(pages) == expected
    with pytest.raises(InvalidArgument):
        segments.members(
            store, SegmentSelection(rule=rfm_spec, segment="111"), as_of=AS_OF, limit=-1
        )


def test_sums_beyond_sqlite_integers_fall_back_to_the_rule(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """Twelve maximal amounts overflow SQLite's integer sum: the rule answers instead."""
    purchases = [
        Purchase(
            id=f"o{i:02d}",
            customer_id=CUSTOMERS[0],
            purchased_at=START + dt.timedelta(days=i),
            amount=Money.of("999999999999.999999", "CNY"),
            product="plant",
        )
        for i in range(12)
    ]
    store = make_store(purchases)
    summaries = rules.summarise_purchases(purchases, as_of=AS_OF)
    assert summaries[0].total == Decimal("11999999999999.999988")
    assert segments.purchase_summaries(store, as_of=AS_OF) == summaries
    assert segments.repeat_summaries(store, as_of=AS_OF) == rules.repeat_summaries(
        purchases, as_of=AS_OF
    )
    spec = RfmSpec(currency="CNY")
    assert segments.rfm(store, spec, as_of=AS_OF) == rules.rfm(spec, summaries)


TIER_SPECS = [
    PyramidSpec(currency="CNY"),
    PyramidSpec(currency="EUR", method=PyramidMethod.SHARES, tiers=RANK_TIERS),
    PyramidSpec(
        currency="CNY",
        method=PyramidMethod.SHARES,
        tiers=(
            Tier(name="top", share=Decimal("0.3")),
            Tier(name="middle", share=Decimal("0.5")),
            Tier(name="rest"),
        ),
    ),
    PyramidSpec(
        currency="CNY",
        tiers=(
            Tier(name="high", minimum=Decimal("250.005"), inclusive=False),
            Tier(name="par", minimum=Decimal("25.00")),
            Tier(name="low", minimum=Decimal("-0.01")),
            Tier(name="refunded"),
        ),
    ),
]
PARETO_SPECS = [
    ParetoSpec(),
    ParetoSpec(top_shares=(Decimal("0.01"), Decimal("0.5"), Decimal(1)), revenue_share=Decimal(1)),
    ParetoSpec(top_shares=(Decimal("0.15"),), revenue_share=Decimal("0.333")),
]


def _tier_answers_equal(store: Store, purchases: list[Purchase]) -> None:
    summaries = rules.summarise_purchases(purchases, as_of=AS_OF)
    for spec in TIER_SPECS:
        found = segments.value_pyramid(store, spec, as_of=AS_OF)
        expected = rules.value_pyramid(spec, summaries)
        assert found == expected, spec
        # Equal in exponent too: the explanations travel as JSON.
        assert to_json(found) == to_json(expected), spec
    for pareto_spec in PARETO_SPECS:
        found_pareto = segments.pareto(store, pareto_spec, as_of=AS_OF)
        expected_pareto = rules.pareto(pareto_spec, summaries)
        assert found_pareto == expected_pareto, pareto_spec
        assert to_json(list(found_pareto)) == to_json(list(expected_pareto)), pareto_spec


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(purchases=purchase_lists())
def test_pyramid_and_pareto_in_sql_equal_the_pure_rules(
    make_store: Callable[[list[Purchase]], Store], purchases: list[Purchase]
) -> None:
    """Pyramid (thresholds, rank shares) and Pareto equal the rules, places included."""
    _tier_answers_equal(make_store(purchases), purchases)


def test_pyramid_and_pareto_ties_never_depend_on_row_order(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """Equal totals written with other decimal places sit at the cut: same tier, same sums."""
    amounts = ["100", "100.00", "100.0", "100", "50.5", "50.50", "-20", "100.000"]
    purchases = [
        Purchase(
            id=f"e{i}",
            customer_id=cid,
            purchased_at=START + dt.timedelta(days=i),
            amount=Money.of(amount, "CNY"),
            product="tea",
        )
        for i, (cid, amount) in enumerate(zip(reversed(CUSTOMERS), amounts, strict=True))
    ]
    store = make_store(purchases)
    _tier_answers_equal(store, purchases)
    spec = TIER_SPECS[2]
    tiers = {a.total: a.tier for a in segments.value_pyramid(store, spec, as_of=AS_OF).assignments}
    assert tiers[Decimal(100)] == "top"  # the five tied at 100 are all in, though 30% is 3
    (cny,) = segments.pareto(store, ParetoSpec(), as_of=AS_OF)
    assert cny.customers_for_revenue_share == 5


def test_pyramid_and_pareto_with_fast_paths_off_run_the_rule(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """The reference path (the rule over the summaries) gives the same pyramid and Pareto."""
    purchases = [
        Purchase(
            id=f"f{i}",
            customer_id=CUSTOMERS[i % 5],
            purchased_at=START + dt.timedelta(days=i),
            amount=Money.of(str(3 + i * 7), "CNY" if i % 3 else "EUR"),
            product="tea",
        )
        for i in range(15)
    ]
    store = make_store(purchases)
    spec = TIER_SPECS[1]
    fast = (
        segments.value_pyramid(store, spec, as_of=AS_OF),
        segments.pareto(store, ParetoSpec(), as_of=AS_OF),
    )
    previous = set_fast_paths(False)
    try:
        reference = (
            segments.value_pyramid(store, spec, as_of=AS_OF),
            segments.pareto(store, ParetoSpec(), as_of=AS_OF),
        )
    finally:
        set_fast_paths(previous)
    assert fast == reference


def test_recency_in_sql_counts_whole_days_from_a_midday_as_of(
    make_store: Callable[[list[Purchase]], Store],
) -> None:
    """Purchases later in the day than ``as_of``'s time of day are one whole day fewer."""
    as_of = dt.datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=dt.UTC)
    times = [
        dt.datetime(2026, 3, 9, 12, 0, 0, 500000, tzinfo=dt.UTC),  # exactly one day
        dt.datetime(2026, 3, 9, 12, 0, 0, 500001, tzinfo=dt.UTC),  # a microsecond short
        dt.datetime(2026, 3, 9, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 2, 28, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=dt.UTC),  # at as_of itself
        dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    ]
    purchases = [
        Purchase(
            id=f"d{i}",
            customer_id=CUSTOMERS[i],
            purchased_at=at,
            amount=Money.of("9.90", "CNY"),
            product="tea",
        )
        for i, at in enumerate(times)
    ]
    store = make_store(purchases)
    summaries = rules.summarise_purchases(purchases, as_of=as_of)
    assert [s.recency_days for s in summaries] == [1, 0, 0, 9, 9, 0, 68, 68]
    for spec in [*SPECS, RfmSpec(currency="CNY", scores=4, segments=())]:
        assert segments.rfm(store, spec, as_of=as_of) == rules.rfm(spec, summaries), spec


def _store_purchases(url: str, purchases: list[Purchase]) -> None:
    """Store the customers (Chinese family names) and ``purchases`` in the database at ``url``."""
    store = connect(url, normaliser=None)
    try:
        store.import_customers(
            [Customer.person_named(family="客", given=c, id=c) for c in CUSTOMERS]
        )
        assert store.import_records("purchase", purchases).rejected == 0
    finally:
        store.close()


@pytest.mark.parametrize("before", ["on", "off"])
def test_postgresql_planner_setting_is_set_back_after_a_segmentation(
    sql_database: Callable[[str], str], before: str
) -> None:
    """The statements read the covering index; the transaction's setting is as it was."""
    url = sql_database("postgresql")
    purchases = [
        Purchase(
            id=f"s{i}",
            customer_id=CUSTOMERS[i % 3],
            purchased_at=START + dt.timedelta(days=i),
            amount=Money.of(str(3 + i), "CNY"),
            product="tea",
        )
        for i in range(6)
    ]
    _store_purchases(url, purchases)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"SET enable_seqscan = {before}"))
            result = _aggregates.rfm(conn, RfmSpec(currency="CNY"), as_of=AS_OF)
            pyramid = _tiers.value_pyramid(conn, PyramidSpec(currency="CNY"), as_of=AS_OF)
            setting = conn.execute(sa.text("SHOW enable_seqscan")).scalar_one()
        assert result is not None
        assert pyramid is not None
        assert result == rules.rfm(
            RfmSpec(currency="CNY"), rules.summarise_purchases(purchases, as_of=AS_OF)
        )
        assert setting == before
    finally:
        engine.dispose()


def test_mariadb_segmentations_aggregate_the_purchases_once(
    sql_database: Callable[[str], str],
) -> None:
    """On MariaDB, RFM, the pyramid by shares and Pareto are one statement, one aggregation.

    MariaDB computes a common table expression once per reference: a cut point that
    reads the summaries again aggregates the purchases again (33 times for RFM).
    """
    url = sql_database("mysql")
    purchases = [
        Purchase(
            id=f"w{i}",
            customer_id=CUSTOMERS[i % 5],
            purchased_at=START + dt.timedelta(days=i, hours=i),
            amount=Money.of(["12.5", "12.50", "7", "300.000"][i % 4], "CNY"),
            product="烏龍茶",
        )
        for i in range(11)
    ]
    _store_purchases(url, purchases)
    engine = make_engine(url)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", seen)
    summaries = rules.summarise_purchases(purchases, as_of=AS_OF)
    shares = TIER_SPECS[2]
    try:
        with engine.connect() as conn:
            calls: list[tuple[object, object]] = [
                (
                    _aggregates.rfm(conn, RfmSpec(currency="CNY"), as_of=AS_OF),
                    rules.rfm(RfmSpec(currency="CNY"), summaries),
                ),
                (
                    _tiers.value_pyramid(conn, shares, as_of=AS_OF),
                    rules.value_pyramid(shares, summaries),
                ),
                (
                    _tiers.pareto(conn, ParetoSpec(), as_of=AS_OF),
                    rules.pareto(ParetoSpec(), summaries),
                ),
            ]
            assert len(statements) == 3
            for statement, parameters in statements:
                plan = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).mappings().all()
                assert [row["table"] for row in plan].count("crm_purchase") == 1, plan
    finally:
        engine.dispose()
    for found, expected in calls:
        assert found == expected


MANY = [f"m{i:02d}" for i in range(37)]


@pytest.fixture(params=BACKENDS)
def make_wide_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[Callable[[list[Purchase]], Store]]:
    """A new store on the parametrised backend with 37 customers (a prime count)."""
    yield from purchase_stores(request, sql_database, MANY)


def test_cut_point_positions_are_exact_for_every_score_count(
    make_wide_store: Callable[[list[Purchase]], Store],
) -> None:
    """Quantile cut points sit at ``ceil(j * n / k)`` for awkward n and k, places included.

    PostgreSQL reads them with ``percentile_disc``, whose fraction is a float: positions
    where ``j / k`` rounds (k = 3, 6, 7, 9, 10 over 37 and 36 customers) must still be
    exact, and a money cut among equal totals written with other decimal places
    (``"10"``, ``"10.00"``, ``"10.0"``) must carry the places of that customer's total.
    """
    day = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    places = ["10", "10.00", "10.0"]
    purchases = []
    for i, cid in enumerate(MANY):
        amount = places[i % 3] if i % 4 == 0 else f"{(i * 7) % 23 + 1}.{i % 10}"
        for j in range(1 + i % 5):
            purchases.append(
                Purchase(
                    id=f"w{i:02d}{j}",
                    customer_id=cid,
                    purchased_at=day - dt.timedelta(days=(i * 11) % 17 + j),
                    amount=Money.of(amount, "CNY"),
                    product="茶",
                )
            )
    for subset in (purchases, [p for p in purchases if p.customer_id != MANY[-1]]):
        store = make_wide_store(subset)
        summaries = rules.summarise_purchases(subset, as_of=AS_OF)
        for k in (2, 3, 4, 5, 6, 7, 9, 10):
            spec = RfmSpec(currency="CNY", scores=k, segments=())
            found = segments.rfm(store, spec, as_of=AS_OF)
            assert found == rules.rfm(spec, summaries), k
            assert to_json(found) == to_json(rules.rfm(spec, summaries)), k
        shares = (Decimal("0.07"), Decimal("0.11"), Decimal("0.29"), None)
        tiers = tuple(Tier(name=f"t{i}", share=s) for i, s in enumerate(shares))
        pyramid = PyramidSpec(currency="CNY", method=PyramidMethod.SHARES, tiers=tiers)
        found_pyramid = segments.value_pyramid(store, pyramid, as_of=AS_OF)
        assert to_json(found_pyramid) == to_json(rules.value_pyramid(pyramid, summaries))

"""Customer summaries from purchases: per currency, as of a date, the CLV definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Money, Purchase
from crmcore.rules.segmentation import (
    Period,
    period_start,
    repeat_summaries,
    summarise_purchases,
)

T0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def buy(
    customer: str, day: int, amount: str, currency: str = "EUR", cost: str | None = None
) -> Purchase:
    return Purchase(
        customer_id=customer,
        purchased_at=T0 + dt.timedelta(days=day),
        amount=Money.of(amount, currency),
        cost=Money.of(cost, currency) if cost is not None else None,
        product="tea",
    )


def test_currency_summary_counts_totals_means_margins_and_recency() -> None:
    """First, last, recency, count, total, mean, margin over costed purchases only."""
    bought = [buy("c1", 0, "10", cost="4"), buy("c1", 5, "20"), buy("c1", 9, "30", cost="10")]
    (s,) = summarise_purchases(bought, as_of=T0 + dt.timedelta(days=12))
    assert (s.first_purchase, s.last_purchase) == (T0, T0 + dt.timedelta(days=9))
    assert (s.recency_days, s.purchases, s.total, s.mean) == (3, 3, Decimal(60), Decimal(20))
    assert (s.margin, s.costed_purchases) == (Decimal(26), 2)


def test_currencies_are_never_added() -> None:
    """CNY and EUR purchases of one customer give two summaries, one per currency."""
    got = summarise_purchases(
        [buy("c1", 0, "10", "EUR"), buy("c1", 1, "100", "CNY")], as_of=T0 + dt.timedelta(days=2)
    )
    assert [(s.currency, s.total) for s in got] == [("CNY", Decimal(100)), ("EUR", Decimal(10))]


def test_margin_is_none_without_any_cost_and_later_purchases_are_ignored() -> None:
    """No known cost gives margin None; a purchase after as_of is not counted."""
    (s,) = summarise_purchases([buy("c1", 0, "10"), buy("c1", 9, "99")], as_of=T0)
    assert (s.purchases, s.total, s.margin) == (1, Decimal(10), None)


def test_naive_as_of_and_unknown_zone_are_refused() -> None:
    """A naive as_of and an unknown time zone raise coded ValidationErrors."""
    with pytest.raises(ValidationError) as naive:
        summarise_purchases([], as_of=dt.datetime(2026, 1, 1))
    assert naive.value.codes == ("datetime.naive",)
    with pytest.raises(ValidationError) as zone:
        repeat_summaries([], as_of=T0, tz="Mars/Olympus")
    assert zone.value.codes == ("timezone.unknown",)


def test_repeat_summary_follows_the_lifetimes_definition_by_day() -> None:
    """Same-day purchases are one period; the first is no repeat; mean of repeat periods."""
    bought = [buy("c1", 0, "10"), buy("c1", 0, "5"), buy("c1", 3, "20"), buy("c1", 3, "4")]
    bought += [buy("c1", 7, "6"), buy("c2", 2, "50")]
    one, two = repeat_summaries(bought, as_of=T0 + dt.timedelta(days=10))
    assert (one.frequency, one.recency, one.age, one.monetary_value) == (
        2,
        Decimal(7),
        Decimal(10),
        Decimal(15),
    )
    assert (two.frequency, two.recency, two.age, two.monetary_value) == (
        0,
        Decimal(0),
        Decimal(8),
        Decimal(0),
    )


def test_repeat_summary_by_week_and_month() -> None:
    """Weeks start on Monday; months count calendar months between first days."""
    bought = [buy("c1", 0, "10"), buy("c1", 3, "10"), buy("c1", 5, "10"), buy("c1", 40, "7")]
    # 2026-01-01 is a Thursday: days 0 and 3 share the week of 29 Dec, day 5 is in the next.
    (week,) = repeat_summaries(bought, as_of=T0 + dt.timedelta(days=41), period=Period.WEEK)
    assert (week.frequency, week.recency, week.age, week.monetary_value) == (
        2,
        Decimal(6),
        Decimal(6),
        Decimal("8.5"),
    )
    (month,) = repeat_summaries(bought, as_of=T0 + dt.timedelta(days=60), period="month")  # type: ignore[arg-type]
    assert (month.frequency, month.recency, month.age, month.monetary_value) == (
        1,
        Decimal(1),
        Decimal(2),
        Decimal(7),
    )


def test_periods_are_counted_in_the_given_time_zone() -> None:
    """Two purchases on one UTC day fall on two Shanghai days, and so are two periods."""
    late = dt.datetime(2026, 1, 1, 15, tzinfo=dt.UTC)  # 23:00 in Shanghai
    bought = [
        Purchase(customer_id="c", purchased_at=late, amount=Money.of(1, "CNY"), product="x"),
        Purchase(
            customer_id="c",
            purchased_at=late + dt.timedelta(hours=2),
            amount=Money.of(1, "CNY"),
            product="x",
        ),
    ]
    as_of = late + dt.timedelta(days=1)
    assert repeat_summaries(bought, as_of=as_of, tz="Asia/Shanghai")[0].frequency == 1
    assert repeat_summaries(bought, as_of=as_of, tz="UTC")[0].frequency == 0


def test_period_start() -> None:
    """A period starts on the day, the Monday of the week, or the first of the month."""
    day = dt.date(2026, 1, 1)
    assert period_start(day, Period.DAY) == day
    assert period_start(day, Period.WEEK) == dt.date(2025, 12, 29)
    assert period_start(dt.date(2026, 3, 31), Period.MONTH) == dt.date(2026, 3, 1)


PURCHASES = st.lists(
    st.builds(
        buy,
        customer=st.sampled_from(["a", "b", "c"]),
        day=st.integers(0, 120),
        amount=st.integers(-50, 500).map(str),
        currency=st.sampled_from(["EUR", "CNY"]),
        cost=st.none() | st.integers(0, 100).map(str),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(bought=PURCHASES, data=st.data(), period=st.sampled_from(Period))
def test_summaries_are_order_independent_and_consistent(
    bought: list[Purchase], data: st.DataObject, period: Period
) -> None:
    """Shuffled input gives the same summaries; frequency <= periods - 1; recency <= T."""
    as_of = T0 + dt.timedelta(days=data.draw(st.integers(0, 130)))
    shuffled = data.draw(st.permutations(bought))
    assert summarise_purchases(bought, as_of=as_of) == summarise_purchases(shuffled, as_of=as_of)
    repeats = repeat_summaries(bought, as_of=as_of, period=period)
    assert repeats == repeat_summaries(shuffled, as_of=as_of, period=period)
    for r in repeats:
        mine = [
            p
            for p in bought
            if (p.customer_id, p.amount.currency) == (r.customer_id, r.currency)
            and p.purchased_at <= as_of
        ]
        periods = {period_start(p.purchased_at.date(), period) for p in mine}
        assert r.frequency == len(periods) - 1 <= len(mine) - 1
        assert 0 <= r.recency <= r.age
        assert (r.frequency == 0) <= (r.monetary_value == 0)
    counted = sum(s.purchases for s in summarise_purchases(bought, as_of=as_of))
    assert counted == sum(p.purchased_at <= as_of for p in bought)


@settings(max_examples=60, deadline=None)
@given(bought=PURCHASES, period=st.sampled_from(Period))
def test_the_utc_fast_path_equals_the_zone_conversion(
    bought: list[Purchase], period: Period
) -> None:
    """Purchases stamped in datetime.UTC (dates read directly) give what other zones give."""
    from zoneinfo import ZoneInfo

    import attrs

    as_of = T0 + dt.timedelta(days=130)
    elsewhere = [
        attrs.evolve(p, purchased_at=p.purchased_at.astimezone(ZoneInfo("Europe/Berlin")))
        for p in bought
    ]
    from crmcore._fastpaths import set_fast_paths

    previous = set_fast_paths(True)  # the shortcut itself, under CRMCORE_NO_FAST_PATHS=1 too
    try:
        assert repeat_summaries(bought, as_of=as_of, period=period) == repeat_summaries(
            elsewhere, as_of=as_of, period=period
        )
    finally:
        set_fast_paths(previous)


def _bought_at(customer: str, hours: int, amount: Decimal, currency: str) -> Purchase:
    return Purchase(
        customer_id=customer,
        purchased_at=T0 + dt.timedelta(hours=hours),
        amount=Money(amount=amount, currency=currency),
        product="茶",
    )


# Amounts with 0 to 6 places and signed zeros (the sums' exponents must match too),
# CJK and Latin customer ids, purchases at any hour (local days differ by zone).
MIXED_PURCHASES = st.lists(
    st.builds(
        _bought_at,
        customer=st.sampled_from(["客户甲", "客户乙", "c"]),
        hours=st.integers(-72, 130 * 24),
        amount=st.builds(
            lambda n, places: Decimal(n).scaleb(-places),
            st.integers(-5_000, 50_000),
            st.integers(0, 6),
        )
        | st.sampled_from([Decimal("-0"), Decimal("-0.00"), Decimal("0.000"), Decimal("1E+2")]),
        currency=st.sampled_from(["EUR", "CNY", "USD"]),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(
    bought=PURCHASES | MIXED_PURCHASES,
    period=st.sampled_from(Period),
    tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Pacific/Kiritimati"]),
    hours=st.integers(-48, 200 * 24),
)
def test_the_integer_period_fast_path_equals_the_reference(
    bought: list[Purchase], period: Period, tz: str, hours: int
) -> None:
    """Periods as whole numbers (the fast path) give exactly the reference's date loop."""
    from crmcore._fastpaths import set_fast_paths

    as_of = T0 + dt.timedelta(hours=hours)
    previous = set_fast_paths(True)  # the fast path itself, under CRMCORE_NO_FAST_PATHS=1 too
    try:
        fast = repeat_summaries(bought, as_of=as_of, period=period, tz=tz)
        set_fast_paths(False)
        reference = repeat_summaries(bought, as_of=as_of, period=period, tz=tz)
    finally:
        set_fast_paths(previous)
    assert fast == reference
    # Equal in exponent too (the monetary values travel as JSON).
    assert [str(r.monetary_value) for r in fast] == [str(r.monetary_value) for r in reference]

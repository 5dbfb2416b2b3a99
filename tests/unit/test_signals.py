"""Signals: upcoming dates, falling purchases, complaint deadlines, re-verification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    Complaint,
    ContactPerson,
    Customer,
    FamilyMember,
    InteractionChannel,
    KeyDate,
    Money,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Purchase,
)
from crmcore.rules.signals import (
    DeclineSpec,
    SignalKind,
    complaint_signals,
    next_occurrence,
    poisson_decline_p_value,
    purchase_declines,
    reverification_signals,
    upcoming_dates,
)
from crmcore.serialization import from_json, to_json

NOW = dt.datetime(2026, 2, 20, 20, 0, tzinfo=dt.UTC)  # 21 February 04:00 in Shanghai


def person(cid: str, birthday: dt.date | None, **fields: object) -> Customer:
    profile = PersonProfile(name=PersonName(family=cid), birthday=birthday, **fields)  # type: ignore[arg-type]
    return Customer.person_named(family=cid, id=cid, person=profile)


def test_next_occurrence_and_the_29_february_rule() -> None:
    """29 February is celebrated on 28 February in common years, on the day in leap years."""
    leapling = dt.date(2000, 2, 29)
    assert next_occurrence(leapling, dt.date(2026, 1, 1)) == dt.date(2026, 2, 28)
    assert next_occurrence(leapling, dt.date(2028, 1, 1)) == dt.date(2028, 2, 29)
    assert next_occurrence(dt.date(1990, 1, 5), dt.date(2026, 1, 6)) == dt.date(2027, 1, 5)


def test_upcoming_dates_in_the_store_time_zone() -> None:
    """Dates are counted from today in the store's zone, soonest first, with what and when."""
    people = [
        person("a", dt.date(2000, 2, 29)),
        person(
            "b",
            dt.date(1980, 2, 21),
            family_members=(FamilyMember(relation="daughter", birthday=dt.date(2010, 3, 1)),),
        ),
        Customer.organisation_named(
            "Acme",
            id="o",
            organisation=OrganisationProfile(
                legal_name="Acme",
                founded_on=dt.date(2012, 3, 10),
                contact_persons=(
                    ContactPerson(name=PersonName(family="Li"), birthday=dt.date(1975, 2, 25)),
                ),
            ),
            key_dates=(
                KeyDate(label="contract renewal", date=dt.date(2026, 3, 1), recurring=False),
                KeyDate(label="old one-off", date=dt.date(2020, 2, 22), recurring=False),
            ),
        ),
    ]
    got = upcoming_dates(people, now=NOW, tz="Asia/Shanghai", days=20)
    assert [(s.customer_id, s.what, s.by.date().isoformat()) for s in got] == [
        ("b", "birthday", "2026-02-21"),
        ("o", "Li's birthday", "2026-02-25"),
        ("a", "birthday", "2026-02-28"),
        ("b", "daughter's birthday", "2026-03-01"),
        ("o", "contract renewal", "2026-03-01"),
        ("o", "founding anniversary", "2026-03-10"),
    ]
    assert got[0].by.utcoffset() == dt.timedelta(hours=8)
    assert "46 years" in got[0].why
    in_utc = upcoming_dates(people, now=NOW, tz="UTC", days=0)
    assert in_utc == ()  # still 20 February in UTC: no date today


def days_ago(n: int, amount: str = "100", cid: str = "c", currency: str = "EUR") -> Purchase:
    return Purchase(
        customer_id=cid,
        purchased_at=NOW - dt.timedelta(days=n),
        amount=Money.of(amount, currency),
        product="tea",
    )


def test_falling_frequency_is_flagged_by_the_poisson_test() -> None:
    """Fortnightly buyers silent for the last 90 days are flagged, steady ones are not."""
    steady = [days_ago(d, cid="steady") for d in range(5, 400, 14)]
    stopped = [days_ago(d, cid="stopped") for d in range(95, 400, 14)]
    got = purchase_declines(DeclineSpec(), steady + stopped, now=NOW)
    assert [(s.customer_id, s.kind) for s in got] == [("stopped", SignalKind.FALLING_FREQUENCY)]
    factors = {f.name: f for f in got[0].explanation.factors}  # type: ignore[union-attr]
    assert factors["recent_purchase_days"].value == 0
    assert factors["p_value"].value <= Decimal("0.05")  # type: ignore[operator]
    assert got[0].by == NOW.replace(hour=0) + dt.timedelta(days=14)


def test_falling_amount_is_flagged_by_the_ratio() -> None:
    """Spend per purchase day down to a third of the customer's own history is flagged."""
    history = [days_ago(d, "300") for d in range(100, 400, 20)]
    recent = [days_ago(d, "100") for d in (10, 40, 70)]
    got = purchase_declines(DeclineSpec(), history + recent, now=NOW)
    assert [s.kind for s in got] == [SignalKind.FALLING_AMOUNT]
    assert got[0].subject_id == "EUR"
    assert "ratio 0.33" in got[0].why


def test_short_histories_are_not_judged() -> None:
    """A customer with too little history raises no signal."""
    assert purchase_declines(DeclineSpec(), [days_ago(150), days_ago(120)], now=NOW) == ()


def test_the_exact_p_value() -> None:
    """The p-value is the binomial lower tail, exactly."""
    assert poisson_decline_p_value(3, 90, 0, 90) == Fraction(1, 8)
    assert poisson_decline_p_value(0, 10, 0, 10) == 1
    with pytest.raises(ValidationError):
        DeclineSpec(alpha=Decimal(1))


@settings(max_examples=80, deadline=None)
@given(history=st.integers(0, 30), recent=st.integers(0, 30), days=st.integers(1, 400))
def test_the_p_value_is_a_probability_falling_with_fewer_recent_purchases(
    history: int, recent: int, days: int
) -> None:
    """The p-value lies in [0, 1] and never rises when the recent count falls."""
    p = poisson_decline_p_value(history, days, recent, 90)
    assert 0 <= p <= 1
    if recent:
        assert poisson_decline_p_value(history + 1, days, recent - 1, 90) <= p


def complaint(**fields: object) -> Complaint:
    return Complaint(
        customer_id="c",
        received_at=NOW - dt.timedelta(days=2),
        channel=InteractionChannel.PHONE,
        category="delivery",
        description="late",
        **fields,  # type: ignore[arg-type]
    )


def test_complaints_past_or_near_their_deadlines() -> None:
    """Overdue and due-soon deadlines of open complaints are signalled, most urgent first."""
    late = complaint(id="k1", response_due=NOW - dt.timedelta(hours=5))
    soon = complaint(id="k2", resolution_due=NOW + dt.timedelta(hours=3))
    later = complaint(id="k3", resolution_due=NOW + dt.timedelta(days=3))
    answered = complaint(id="k4", response_due=NOW - dt.timedelta(hours=1)).acknowledge(
        by="desk", at=NOW - dt.timedelta(days=1)
    )
    done = complaint(id="k5", resolution_due=NOW - dt.timedelta(hours=1)).reject(
        by="desk", at=NOW - dt.timedelta(days=1), note="unfounded"
    )
    got = complaint_signals([soon, later, answered, done, late], now=NOW, tz="Asia/Shanghai")
    assert [(s.subject_id, s.kind) for s in got] == [
        ("k1", SignalKind.COMPLAINT_OVERDUE),
        ("k2", SignalKind.COMPLAINT_DUE_SOON),
    ]
    assert got[0].what == "response to the delivery complaint"
    assert from_json(to_json(got[0]), type(got[0])) == got[0]


def test_reverification_signals_come_from_the_schedule() -> None:
    """Facts the verification schedule finds due become signals, with the same reason."""
    old = Customer.person_named(
        family="v", id="v", created_at=NOW - dt.timedelta(days=400), updated_at=NOW
    )
    (signal,) = reverification_signals([old], now=NOW)
    assert (signal.kind, signal.subject_id) == (SignalKind.REVERIFICATION_DUE, "$")
    assert signal.by == NOW - dt.timedelta(days=35)
    assert signal.explanation is not None
    assert signal.explanation.outcome == "verification.never_verified"


def test_naive_now_is_refused() -> None:
    """Every signal function refuses a naive now."""
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(ValidationError):
        upcoming_dates([], now=naive)
    with pytest.raises(ValidationError):
        complaint_signals([], now=naive)
    with pytest.raises(ValidationError):
        purchase_declines(DeclineSpec(), [], now=naive)


def test_the_decline_spec_round_trips_as_json() -> None:
    """The decline spec is frozen data with a kind tag and survives JSON."""
    spec = DeclineSpec(recent_days=60, alpha=Decimal("0.01"))
    assert from_json(to_json(spec), DeclineSpec) == spec
    assert '"kind": "purchase_decline"' in to_json(spec)


def test_founding_day_is_gregorian_and_a_lunar_founding_day_is_a_key_date() -> None:
    """founded_on recurs on its Gregorian day; a Chinese-calendar KeyDate on its lunar day."""
    pytest.importorskip("borax", reason="the lunar extra (borax) is not installed")
    from crmcore.models import Calendar

    founded = dt.date(1990, 10, 3)  # 1990 八月十五: in 2026 on 25 September
    org = Customer.organisation_named(
        "Acme",
        id="o",
        organisation=OrganisationProfile(legal_name="Acme", founded_on=founded),
        key_dates=(KeyDate(label="lunar founding day", date=founded, calendar=Calendar.CHINESE),),
    )
    now = dt.datetime(2026, 9, 20, tzinfo=dt.UTC)
    got = upcoming_dates([org], now=now, days=20)
    assert [(s.what, s.by.date().isoformat()) for s in got] == [
        ("lunar founding day", "2026-09-25"),
        ("founding anniversary", "2026-10-03"),
    ]
    assert "Chinese calendar" in got[0].why
    assert "Chinese calendar" not in got[1].why

"""The month-day window and consent audience filters: meaning, errors, JSON, cache keys."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Consent, Customer, Email, Interaction, OptOut, Phone
from crmcore.query import (
    Field,
    MonthDay,
    Query,
    Reachable,
    reachable_keys,
    upcoming,
)
from crmcore.query.audience import CHANNELS, audience_key, is_reachable
from crmcore.query.evaluate import query_key
from crmcore.query.month_days import FULL_YEAR, in_window, is_month_day, month_day_of
from crmcore.serialization import from_dict, from_json, to_json
from crmcore.testing.strategies import customers, dates

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ALL_MONTH_DAYS = [
    f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, calendar.monthrange(2000, m)[1] + 1)
]
PURPOSES = [None, "marketing", "newsletter", "营销短信", "never-recorded"]


def _born(day: dt.date | None) -> Customer:
    customer = Customer.person_named(family="张", given="伟")
    assert customer.person is not None
    return attrs.evolve(customer, person=attrs.evolve(customer.person, birthday=day))


def _where(query: dict[str, Any]) -> Query:
    return from_dict({"where": query}, Query)


def _error(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        _where(data).validate(Customer)
    problem = info.value.problems[0]
    return problem.code, problem.path


# --------------------------------------------------------------------------- month-day


def test_month_day_text_is_exact_for_every_string() -> None:
    """is_month_day accepts exactly the "MM-DD" texts of a day in a leap year."""
    for month in range(100):
        for day in range(100):
            text = f"{month:02d}-{day:02d}"
            try:
                dt.date(2000, month, day)
                valid = True
            except ValueError:
                valid = False
            assert is_month_day(text) is valid, text
    for bad in ["2-29", "12-1", "12/25", "1225", "１２-２５", "12-25 ", "", "+1-01"]:
        assert not is_month_day(bad)


@given(day=dates(), start=st.sampled_from(ALL_MONTH_DAYS), end=st.sampled_from(ALL_MONTH_DAYS))
def test_month_day_matches_the_window_of_the_date(day: dt.date, start: str, end: str) -> None:
    """A birthday matches exactly when its MM-DD is in [start, end], wrapping if start > end."""
    md = f"{day.month:02d}-{day.day:02d}"
    expected = start <= md <= end if start <= end else (md >= start or md <= end)
    query = Query(where=Field("person.birthday").month_day_between(start, end))
    assert query.matches(_born(day)) is expected
    assert query.matches(_born(None)) is False


def test_month_day_wraps_the_year_end() -> None:
    """12-25 to 01-07 holds Christmas, New Year and 7 January, not 8 January or 24 December."""
    window = Field("person.birthday").month_day_between("12-25", "01-07")
    found = {
        day: Query(where=window).matches(_born(dt.date(1990, *day)))
        for day in [(12, 24), (12, 25), (12, 31), (1, 1), (1, 7), (1, 8)]
    }
    assert found == {
        (12, 24): False,
        (12, 25): True,
        (12, 31): True,
        (1, 1): True,
        (1, 7): True,
        (1, 8): False,
    }


def test_29_february_is_its_own_text() -> None:
    """A leap-day birthday is in a window to 02-29 or 03-01, not in one ending at 02-28."""
    leap = _born(dt.date(2000, 2, 29))
    for (start, end), expected in {
        ("02-20", "02-28"): False,
        ("02-20", "02-29"): True,
        ("02-29", "02-29"): True,
        ("02-29", "03-01"): True,
        ("03-01", "02-28"): False,
        ("03-01", "02-29"): True,
    }.items():
        assert Query(where=MonthDay(path="person.birthday", start=start, end=end)).matches(
            leap
        ) is (expected), (start, end)


def test_month_day_is_existential_over_family_members() -> None:
    """A path through a tuple matches when any member's birthday is in the window."""
    from crmcore.models import FamilyMember

    customer = _born(None)
    assert customer.person is not None
    customer = attrs.evolve(
        customer,
        person=attrs.evolve(
            customer.person,
            family_members=(
                FamilyMember(relation="配偶", birthday=None),
                FamilyMember(relation="子女", birthday=dt.date(2015, 6, 1)),
            ),
        ),
    )
    window = Field("person.family_members.birthday").month_day_between("05-30", "06-02")
    assert Query(where=window).matches(customer)
    assert not Query(where=~window).matches(customer)


@given(today=dates(), days=st.integers(min_value=1, max_value=366))
def test_upcoming_holds_exactly_the_next_days(today: dt.date, days: int) -> None:
    """upcoming's window holds the month-days of the next days, plus 02-29 on a non-leap 02-28."""
    start, end = upcoming(days, today)
    held = {month_day_of(today + dt.timedelta(days=n)) for n in range(days)}
    if any(
        (d.month, d.day) == (2, 28) and not calendar.isleap(d.year)
        for d in (today + dt.timedelta(days=n) for n in range(days))
    ):
        held.add("02-29")
    assert {md for md in ALL_MONTH_DAYS if in_window(md, start, end)} == held
    if len(held) == len(ALL_MONTH_DAYS):
        assert (start, end) == FULL_YEAR


def test_upcoming_examples() -> None:
    """Known windows: the year end, February in a common and in a leap year, one day."""
    assert upcoming(14, dt.date(2026, 12, 25)) == ("12-25", "01-07")
    assert upcoming(7, dt.date(2027, 2, 22)) == ("02-22", "02-29")
    assert upcoming(7, dt.date(2028, 2, 22)) == ("02-22", "02-28")
    assert upcoming(8, dt.date(2028, 2, 22)) == ("02-22", "02-29")
    assert upcoming(1, dt.date(2026, 12, 1)) == ("12-01", "12-01")
    assert upcoming(366, dt.date(2026, 12, 1)) == FULL_YEAR
    assert upcoming(365, dt.date(2026, 3, 1)) == FULL_YEAR
    assert upcoming(365, dt.date(2027, 3, 1)) == ("03-01", "02-28")


@pytest.mark.parametrize(
    ("days", "today", "path"),
    [
        (0, dt.date(2026, 1, 1), "$.days"),
        (367, dt.date(2026, 1, 1), "$.days"),
        (True, dt.date(2026, 1, 1), "$.days"),
        ("7", dt.date(2026, 1, 1), "$.days"),
        (7, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "$.today"),
        (7, "2026-01-01", "$.today"),
    ],
)
def test_upcoming_refuses_bad_arguments(days: Any, today: Any, path: str) -> None:
    """Days outside 1..366, a bool, a datetime or text for today are query.value_invalid."""
    with pytest.raises(ValidationError) as info:
        upcoming(days, today)
    assert [(p.code, p.path) for p in info.value.problems] == [("query.value_invalid", path)]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            {"op": "month_day", "path": "person.birthday", "start": "13-01", "end": "01-07"},
            ("query.value_invalid", "$.where.start"),
        ),
        (
            {"op": "month_day", "path": "person.birthday", "start": "12-25", "end": "02-30"},
            ("query.value_invalid", "$.where.end"),
        ),
        (
            {"op": "month_day", "path": "person.birthday", "start": "１２-２５", "end": "01-07"},
            ("query.value_invalid", "$.where.start"),
        ),
        (
            {"op": "month_day", "path": "person.birthday", "start": 1225, "end": "01-07"},
            ("type.invalid", "$.where.start"),
        ),
        (
            {"op": "month_day", "path": "person.birthday", "start": "12-25"},
            ("field.required", "$.where.end"),
        ),
        (
            {"op": "month_day", "path": "created_at", "start": "12-25", "end": "01-07"},
            ("query.operator_invalid", "$.where.op"),
        ),
        (
            {"op": "month_day", "path": "display_name", "start": "12-25", "end": "01-07"},
            ("query.operator_invalid", "$.where.op"),
        ),
        (
            {"op": "month_day", "path": "person", "start": "12-25", "end": "01-07"},
            ("query.operator_invalid", "$.where.op"),
        ),
        (
            {"op": "month_day", "path": "person.birthdate", "start": "12-25", "end": "01-07"},
            ("query.unknown_field", "$.where.path"),
        ),
        ({"op": "reachable", "channel": "all"}, ("query.value_invalid", "$.where.channel")),
        ({"op": "reachable", "channel": "fax"}, ("value.not_allowed", "$.where.channel")),
        ({"op": "reachable", "channel": 3}, ("value.not_allowed", "$.where.channel")),
        ({"op": "reachable"}, ("field.required", "$.where.channel")),
        (
            {"op": "reachable", "channel": "sms", "purpose": " "},
            ("value.blank", "$.where.purpose"),
        ),
        (
            {"op": "reachable", "channel": "sms", "purpose": "x" * 65},
            ("value.too_long", "$.where.purpose"),
        ),
        ({"op": "reachable", "channel": "sms", "purpose": 1}, ("type.invalid", "$.where.purpose")),
    ],
)
def test_bad_shapes_are_coded_errors(node: dict[str, Any], expected: tuple[str, str]) -> None:
    """Each bad month-day or reachable node is one coded problem at the field's path."""
    assert _error(node) == expected


def test_errors_inside_a_tree_carry_the_full_path() -> None:
    """A bad month-day deep in a tree is reported at its place in the tree."""
    bad = {"op": "month_day", "path": "person.birthday", "start": "00-10", "end": "01-07"}
    data = {
        "op": "and",
        "filters": [{"op": "reachable", "channel": "sms"}, {"op": "not", "filter": bad}],
    }
    assert _error(data) == ("query.value_invalid", "$.where.filters[1].filter.start")


def test_reachable_is_for_customers_only() -> None:
    """A reachable filter on interactions is query.operator_invalid."""
    with pytest.raises(ValidationError) as info:
        Query(where=Reachable(channel="email")).validate(Interaction)
    assert [(p.code, p.path) for p in info.value.problems] == [
        ("query.operator_invalid", "$.where.op")
    ]


def test_python_construction_checks_too() -> None:
    """Building the nodes in Python refuses what decoding refuses."""
    with pytest.raises(ValidationError) as info:
        Field("person.birthday").month_day_between("2-29", "03-01")
    assert info.value.codes == ("query.value_invalid",)
    with pytest.raises(ValidationError) as info:
        Reachable(channel=OptOut.ALL)
    assert info.value.codes == ("query.value_invalid",)
    assert Reachable(channel="sms") == Reachable(channel=OptOut.SMS)


@st.composite
def _nodes(draw: st.DrawFn) -> MonthDay | Reachable:
    if draw(st.booleans()):
        return MonthDay(
            path=draw(st.sampled_from(["person.birthday", "key_dates.date", "acquired_on"])),
            start=draw(st.sampled_from(ALL_MONTH_DAYS)),
            end=draw(st.sampled_from(ALL_MONTH_DAYS)),
        )
    return Reachable(
        channel=draw(st.sampled_from(CHANNELS)), purpose=draw(st.sampled_from(PURPOSES))
    )


@given(first=_nodes(), second=_nodes())
def test_json_round_trip(first: MonthDay | Reachable, second: MonthDay | Reachable) -> None:
    """The nodes survive JSON (alone, combined and negated) and keep their meaning."""
    query = Query(where=first & ~second)
    assert from_json(to_json(query), Query) == query
    assert from_json(to_json(Query(where=first)), Query).where == first


def test_cache_keys_tell_nodes_apart() -> None:
    """Different windows, channels and purposes have different cache keys."""
    queries = [
        Query(where=Field("person.birthday").month_day_between("12-25", "01-07")),
        Query(where=Field("person.birthday").month_day_between("01-07", "12-25")),
        Query(where=Field("key_dates.date").month_day_between("12-25", "01-07")),
        Query(where=Reachable(channel="sms")),
        Query(where=Reachable(channel="sms", purpose="marketing")),
        Query(where=Reachable(channel="call", purpose="marketing")),
    ]
    assert len({query_key(q)[0] for q in queries}) == len(queries)


# --------------------------------------------------------------------------- audience


def _consent(granted: bool, minutes: int, purpose: str = "marketing") -> Consent:
    return Consent(purpose=purpose, granted=granted, recorded_at=T0 + dt.timedelta(minutes=minutes))


def _with_phones(*phones: Phone, **fields: Any) -> Customer:
    return Customer.person_named(family="李", given="娜", phones=phones, **fields)


SMS_MARKETING = Query(where=Reachable(channel="sms", purpose="marketing"))


@given(customer=customers(), channel=st.sampled_from(CHANNELS), purpose=st.sampled_from(PURPOSES))
def test_reachable_is_the_key_test(
    customer: Customer, channel: OptOut, purpose: str | None
) -> None:
    """Reachable(c, p) matches exactly when audience_key(c, p) is in reachable_keys."""
    expected = audience_key(channel, purpose) in reachable_keys(customer)
    assert Query(where=Reachable(channel=channel, purpose=purpose)).matches(customer) is expected
    assert is_reachable(customer, channel, purpose) is expected


@given(customer=customers())
def test_reachable_keys_by_definition(customer: Customer) -> None:
    """The keys are the channels of usable points and their purposes whose latest is a grant."""
    points = {
        OptOut.CALL: customer.phones,
        OptOut.SMS: customer.phones,
        OptOut.MESSAGING: (*customer.phones, *customer.social_handles),
        OptOut.EMAIL: customer.emails,
        OptOut.MAIL: customer.addresses,
        OptOut.VISIT: customer.addresses,
    }
    expected: set[str] = set()
    for channel, found in points.items():
        for point in found:
            if point.invalid or channel in point.opt_outs or OptOut.ALL in point.opt_outs:
                continue
            expected.add(channel.value)
            for consent in point.consents:
                latest = max(
                    (c for c in point.consents if c.purpose == consent.purpose),
                    key=lambda c: c.recorded_at,
                )
                ties = [
                    c
                    for c in point.consents
                    if c.purpose == consent.purpose and c.recorded_at == latest.recorded_at
                ]
                if ties[-1].granted:
                    expected.add(f"{channel.value}:{consent.purpose}")
    assert reachable_keys(customer) == expected


def test_withdrawal_after_grant_does_not_match() -> None:
    """The latest decision wins, whatever the order the consents are listed in."""
    grant, withdraw = _consent(True, 0), _consent(False, 5)
    for consents in [(grant, withdraw), (withdraw, grant)]:
        guest = _with_phones(Phone(number="+8613800138000", consents=consents))
        assert not SMS_MARKETING.matches(guest)
        assert reachable_keys(guest) == {"call", "sms", "messaging"}
    regranted = _with_phones(
        Phone(number="+8613800138000", consents=(grant, withdraw, _consent(True, 9)))
    )
    assert SMS_MARKETING.matches(regranted)


def test_latest_is_by_instant_not_by_local_time() -> None:
    """A withdrawal at 08:00-05:00 comes after a grant at 09:00+08:00."""
    grant = Consent(purpose="marketing", granted=True, recorded_at=T0)
    withdraw = Consent(
        purpose="marketing",
        granted=False,
        recorded_at=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    )
    assert not SMS_MARKETING.matches(
        _with_phones(Phone(number="+8613800138000", consents=(withdraw, grant)))
    )


def test_opt_outs_and_invalid_points() -> None:
    """Opting out of the channel or of all, or an invalid point, leaves the audience."""
    granted = (_consent(True, 0),)
    assert not SMS_MARKETING.matches(
        _with_phones(Phone(number="+8613800138000", opt_outs=(OptOut.ALL,), consents=granted))
    )
    sms_out = _with_phones(Phone(number="+8613800138000", opt_outs=(OptOut.SMS,), consents=granted))
    assert not SMS_MARKETING.matches(sms_out)
    assert Query(where=Reachable(channel="call", purpose="marketing")).matches(sms_out)
    assert not SMS_MARKETING.matches(
        _with_phones(Phone(number="+8613800138000", invalid=True, consents=granted))
    )


def test_decided_per_contact_point() -> None:
    """A grant on a phone opted out of SMS and another phone allowing SMS is no SMS audience."""
    customer = _with_phones(
        Phone(number="+8613800138000", opt_outs=(OptOut.SMS,), consents=(_consent(True, 0),)),
        Phone(number="+8613900139000"),
    )
    assert not SMS_MARKETING.matches(customer)
    assert Query(where=Reachable(channel="sms")).matches(customer)


def test_without_a_purpose_only_reachability_counts() -> None:
    """purpose=None matches any usable point, with or without consents."""
    customer = Customer.person_named(
        family="李",
        given="娜",
        emails=(Email(address="li.na@example.cn", consents=(_consent(False, 0),)),),
    )
    assert Query(where=Reachable(channel="email")).matches(customer)
    assert not Query(where=Reachable(channel="email", purpose="marketing")).matches(customer)
    assert not Query(where=Reachable(channel="sms")).matches(customer)


def test_contact_persons_are_not_the_customer() -> None:
    """A contact person's granted phone does not put the organisation in the audience."""
    from crmcore.models import ContactPerson, OrganisationProfile, PersonName

    org = Customer.organisation_named(
        "ACME GmbH",
        organisation=OrganisationProfile(
            legal_name="ACME GmbH",
            contact_persons=(
                ContactPerson(
                    name=PersonName(family="Müller", given="Anna"),
                    phones=(Phone(number="+491701234567", consents=(_consent(True, 0),)),),
                ),
            ),
        ),
    )
    assert reachable_keys(org) == frozenset()
    assert not SMS_MARKETING.matches(org)

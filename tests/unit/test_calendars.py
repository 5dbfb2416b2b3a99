"""Chinese-calendar birthdays and key dates: the model field, the conversion, the signals."""

from __future__ import annotations

import datetime as dt
import sys

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import FeatureUnavailable, ValidationError
from crmcore.models import (
    Calendar,
    Customer,
    FamilyMember,
    KeyDate,
    PersonName,
    PersonProfile,
)
from crmcore.models.calendars import CHINESE_FIRST_DAY, CHINESE_LAST_DAY
from crmcore.query.month_days import FULL_YEAR, in_window, month_day_of
from crmcore.rules import calendars
from crmcore.rules.calendars import (
    CHINESE_DRIFT_DAYS,
    CHINESE_LAST_CONVERTIBLE_DAY,
    ChineseDate,
    chinese_anniversary,
    chinese_candidate_window,
    from_chinese,
    next_chinese_occurrence,
    to_chinese,
)
from crmcore.rules.signals import upcoming_dates
from crmcore.serialization import from_dict, from_json, to_dict, to_json
from tests._lunar import CHINESE, MID_AUTUMN_1990, lunar_organisation, lunar_person

lunar = pytest.mark.skipif(
    calendars._has_library() is False,
    reason="the lunar extra (borax) is not installed: pip install 'crmcore[lunar]'",
)

SHANGHAI = "Asia/Shanghai"


def local_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=8)))


# --------------------------------------------------------------------------- the model


def test_old_documents_read_as_gregorian() -> None:
    """A document written before the calendar field existed reads unchanged, as Gregorian."""
    key_date = from_dict({"label": "婚礼", "date": "2010-10-10", "recurring": True}, KeyDate)
    profile = from_dict({"birthday": "1990-10-03"}, PersonProfile)
    member = from_dict({"relation": "儿子", "birthday": "2015-01-01"}, FamilyMember)
    assert key_date.calendar is Calendar.GREGORIAN
    assert profile.birthday_calendar is member.birthday_calendar is Calendar.GREGORIAN


def test_the_calendar_round_trips_through_json() -> None:
    """Every place a birthday or key date lives keeps its calendar through JSON."""
    customer = lunar_person(
        "伟",
        dt.date(1990, 10, 3),
        family_members=(
            FamilyMember(relation="母亲", birthday=dt.date(1960, 2, 1), birthday_calendar=CHINESE),
        ),
    )
    customer = attrs.evolve(
        customer, key_dates=(KeyDate(label="婚礼", date=dt.date(2020, 5, 23), calendar=CHINESE),)
    )
    data = to_dict(customer)
    assert data["person"]["birthday_calendar"] == "chinese"
    assert data["key_dates"][0]["calendar"] == "chinese"
    assert from_json(to_json(customer), Customer) == customer
    org = lunar_organisation("org", dt.date(1985, 3, 3))
    assert from_json(to_json(org), Customer) == org


def test_an_unknown_calendar_is_a_coded_refusal() -> None:
    """A calendar name crmcore does not know is refused with a code and a path."""
    with pytest.raises(ValidationError) as info:
        from_dict({"label": "x", "date": "2010-10-10", "calendar": "julian"}, KeyDate)
    assert [p.path for p in info.value.problems] == ["$.calendar"]


@pytest.mark.parametrize(
    "day", [dt.date(1900, 1, 30), dt.date(1850, 6, 1), dt.date(2101, 1, 1)], ids=str
)
def test_chinese_dates_outside_the_range_are_refused(day: dt.date) -> None:
    """A Chinese-calendar date outside 1900-01-31 .. 2100-12-31 is calendar.out_of_range."""
    with pytest.raises(ValidationError) as info:
        KeyDate(label="x", date=day, calendar=CHINESE)
    assert info.value.codes == ("calendar.out_of_range",)
    assert info.value.problems[0].path == "$.date"
    with pytest.raises(ValidationError) as info:
        PersonProfile(birthday=day, birthday_calendar=CHINESE)
    assert info.value.problems[0].path == "$.birthday"
    assert KeyDate(label="x", date=day).calendar is Calendar.GREGORIAN  # Gregorian: any day
    KeyDate(label="x", date=CHINESE_FIRST_DAY, calendar=CHINESE)
    KeyDate(label="x", date=CHINESE_LAST_DAY, calendar=CHINESE)


# --------------------------------------------------------------------------- conversion

SPRING_FESTIVALS = {
    1950: dt.date(1950, 2, 17),
    1966: dt.date(1966, 1, 21),
    1985: dt.date(1985, 2, 20),
    1990: dt.date(1990, 1, 27),
    2000: dt.date(2000, 2, 5),
    2020: dt.date(2020, 1, 25),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2050: dt.date(2050, 1, 23),
    2100: dt.date(2100, 2, 9),
}
"""正月初一 by the published tables (Hong Kong Observatory)."""


@lunar
@pytest.mark.parametrize("year", sorted(SPRING_FESTIVALS))
def test_spring_festival(year: int) -> None:
    """The first day of the first month is the published Spring Festival date."""
    day = SPRING_FESTIVALS[year]
    assert from_chinese(ChineseDate(year=year, month=1, day=1)) == day
    assert to_chinese(day) == ChineseDate(year=year, month=1, day=1)
    assert to_chinese(day - dt.timedelta(days=1)).year == year - 1


@lunar
@pytest.mark.parametrize(
    ("chinese", "day"),
    [
        (ChineseDate(year=2023, month=2, day=1, leap=True), dt.date(2023, 3, 22)),
        (ChineseDate(year=2023, month=2, day=1), dt.date(2023, 2, 20)),
        (ChineseDate(year=2020, month=4, day=1, leap=True), dt.date(2020, 5, 23)),
        (ChineseDate(year=2020, month=4, day=1), dt.date(2020, 4, 23)),
        (ChineseDate(year=2025, month=6, day=1, leap=True), dt.date(2025, 7, 25)),
        (ChineseDate(year=2024, month=8, day=15), dt.date(2024, 9, 17)),  # 中秋
        (ChineseDate(year=2026, month=8, day=15), dt.date(2026, 9, 25)),
        (ChineseDate(year=1900, month=1, day=1), CHINESE_FIRST_DAY),
        (ChineseDate(year=2100, month=12, day=29), CHINESE_LAST_CONVERTIBLE_DAY),
    ],
    ids=str,
)
def test_known_dates_and_leap_months(chinese: ChineseDate, day: dt.date) -> None:
    """Leap months (2023 leap 2, 2020 leap 4, 2025 leap 6) and festivals convert both ways."""
    assert from_chinese(chinese) == day
    assert to_chinese(day) == chinese


@lunar
def test_days_that_do_not_exist_are_coded() -> None:
    """A leap month the year lacks, day 30 of a short month, a year outside: coded errors."""
    for missing in (
        ChineseDate(year=2023, month=3, day=1, leap=True),  # 2023 has leap 2 only
        ChineseDate(year=2024, month=1, day=1, leap=True),  # 2024 has no leap month
        ChineseDate(year=2023, month=1, day=30),  # 2023 正月 has 29 days
        ChineseDate(year=2023, month=13, day=1),
    ):
        with pytest.raises(ValidationError) as info:
            from_chinese(missing)
        assert info.value.codes == ("calendar.date_invalid",)
    for outside in (ChineseDate(year=1899, month=1, day=1), ChineseDate(year=2101, month=1, day=1)):
        with pytest.raises(ValidationError) as info:
            from_chinese(outside)
        assert info.value.codes == ("calendar.out_of_range",)
    for day in (dt.date(1900, 1, 30), dt.date(2101, 1, 29)):
        with pytest.raises(ValidationError) as info:
            to_chinese(day)
        assert info.value.codes == ("calendar.out_of_range",)
    with pytest.raises(ValidationError) as info:
        next_chinese_occurrence(dt.date(2000, 1, 1), dt.date(2101, 1, 1))
    assert info.value.codes == ("calendar.out_of_range",)


GREGORIAN_DAYS = st.dates(CHINESE_FIRST_DAY, CHINESE_LAST_CONVERTIBLE_DAY)


@lunar
@settings(max_examples=300, deadline=None)
@given(GREGORIAN_DAYS)
def test_gregorian_to_chinese_to_gregorian(day: dt.date) -> None:
    """Every day of the range converts to a Chinese date and back to itself."""
    chinese = to_chinese(day)
    assert 1 <= chinese.month <= 12
    assert 1 <= chinese.day <= 30
    assert from_chinese(chinese) == day


@st.composite
def chinese_dates(draw: st.DrawFn) -> ChineseDate:
    """Any existing Chinese date of lunar years 1900 to 2100, leap months included."""
    year = draw(st.integers(1900, 2100))
    leap_month = calendars._borax().LCalendars.leap_month(year)
    month = draw(st.integers(1, 12))
    leap = leap_month == month and draw(st.booleans())
    days = calendars._borax().LCalendars.ndays(year, month, int(leap))
    return ChineseDate(year=year, month=month, day=draw(st.integers(1, days)), leap=leap)


@lunar
@settings(max_examples=300, deadline=None)
@given(chinese_dates())
def test_chinese_to_gregorian_to_chinese(chinese: ChineseDate) -> None:
    """Every existing Chinese date converts to a Gregorian day and back to itself."""
    assert to_chinese(from_chinese(chinese)) == chinese


@lunar
@settings(max_examples=300, deadline=None)
@given(
    born=st.dates(CHINESE_FIRST_DAY, CHINESE_LAST_DAY),
    today=st.dates(dt.date(1950, 1, 1), dt.date(2099, 12, 31)),
)
def test_the_next_occurrence_is_the_first_on_or_after_today(born: dt.date, today: dt.date) -> None:
    """The next anniversary is on or after today, keeps the month, and none lies between."""
    birth = to_chinese(born)
    when = next_chinese_occurrence(born, today)
    got = to_chinese(when)
    assert today <= when
    assert got.month == birth.month
    assert got.day == birth.day or (birth.day == 30 and got.day == 29)
    assert not got.leap or birth.leap
    earlier = chinese_anniversary(birth, got.year - 1) if got.year > 1900 else None
    assert earlier is None or earlier < today
    if birth.year == got.year:
        assert when == born


@lunar
def test_the_leap_month_and_day_30_rules() -> None:
    """Leap-month dates recur in the ordinary month when the year has no such leap month;
    day 30 recurs on day 29 in a 29-day month."""
    leap_4 = ChineseDate(year=2020, month=4, day=1, leap=True)
    assert chinese_anniversary(leap_4, 2020) == dt.date(2020, 5, 23)  # the leap month itself
    assert chinese_anniversary(leap_4, 2026) == from_chinese(ChineseDate(year=2026, month=4, day=1))
    day_30 = to_chinese(dt.date(2024, 2, 9))  # 2023 腊月三十, the eve of Spring Festival 2024
    assert day_30 == ChineseDate(year=2023, month=12, day=30)
    assert calendars._borax().LCalendars.ndays(2024, 12, 0) == 29
    assert chinese_anniversary(day_30, 2024) == dt.date(2025, 1, 28)  # 腊月廿九, 除夕 2025


@lunar
def test_the_drift_bound_holds_for_every_month_of_the_range() -> None:
    """Every anniversary of every lunar month (day 1 and 30, leap or not) of every year of the
    range falls within CHINESE_DRIFT_DAYS of the month and day of any day of birth."""
    table = calendars._borax().LCalendars
    widest = 0
    for month in range(1, 13):
        for leap in (False, True):
            for day in (1, 30):
                births, anniversaries = [], []
                for year in range(1900, 2101):
                    has = not leap or table.leap_month(year) == month
                    date = ChineseDate(year=year, month=month, day=day, leap=leap and has)
                    when = chinese_anniversary(date, year)
                    position = (when - dt.date(year, 1, 1)).days
                    anniversaries.append(position)
                    if has and table.ndays(year, month, int(leap)) >= day:
                        births.append(position)
                if births:
                    widest = max(
                        widest, max(births) - min(anniversaries), max(anniversaries) - min(births)
                    )
    assert widest + 1 <= CHINESE_DRIFT_DAYS


@lunar
@settings(max_examples=300, deadline=None)
@given(
    born=st.dates(CHINESE_FIRST_DAY, CHINESE_LAST_DAY),
    today=st.dates(dt.date(1950, 1, 1), dt.date(2099, 12, 31)),
    days=st.integers(0, 120),
)
def test_the_candidate_window_holds_every_due_anniversary(
    born: dt.date, today: dt.date, days: int
) -> None:
    """A Chinese anniversary due in the window has its day of birth in the candidate window."""
    if (next_chinese_occurrence(born, today) - today).days <= days:
        assert in_window(month_day_of(born), *chinese_candidate_window(days, today))


def test_the_candidate_window_widens_and_caps() -> None:
    """The window is today's, widened by the drift on each side; a wide one is the full year."""
    assert chinese_candidate_window(14, dt.date(2026, 9, 20)) == ("08-18", "11-06")
    assert chinese_candidate_window(0, dt.date(2026, 1, 10)) == ("12-08", "02-12")
    assert chinese_candidate_window(299, dt.date(2026, 1, 10)) == FULL_YEAR
    with pytest.raises(ValidationError) as info:
        chinese_candidate_window(-1, dt.date(2026, 1, 10))
    assert info.value.codes == ("value.negative",)


# --------------------------------------------------------------------------- signals


@lunar
def test_lunar_birthday_signal_moves_with_the_lunar_calendar() -> None:
    """A 中秋 birthday is signalled on 中秋 each year, with its lunar date in the why."""
    mid_autumn = lunar_person("月", MID_AUTUMN_1990)
    for today, expected in (
        (dt.date(2024, 9, 10), dt.date(2024, 9, 17)),
        (dt.date(2026, 9, 20), dt.date(2026, 9, 25)),
    ):
        (signal,) = upcoming_dates([mid_autumn], now=local_noon(today), tz=SHANGHAI, days=14)
        assert signal.by.date() == expected
        assert "Chinese calendar month 8 day 15" in signal.why
        assert f"({expected.year - 1990} years)" in signal.why
    assert upcoming_dates([mid_autumn], now=local_noon(dt.date(2026, 9, 26)), tz=SHANGHAI) == ()
    # the Gregorian day of birth (3 October) is not the occasion
    assert upcoming_dates([mid_autumn], now=local_noon(dt.date(2026, 10, 1)), tz=SHANGHAI) == ()


@lunar
def test_windows_across_the_gregorian_new_year() -> None:
    """A lunar date falling in January is found from a December window, and the edges count."""
    born = from_chinese(ChineseDate(year=1980, month=12, day=1))  # 腊月初一
    customer = lunar_person("冬", born)
    when = from_chinese(ChineseDate(year=2026, month=12, day=1))
    assert when.year == 2027
    assert when.month == 1
    for days_before, window, found in ((10, 10, True), (10, 9, False), (0, 0, True)):
        today = when - dt.timedelta(days=days_before)
        signals = upcoming_dates([customer], now=local_noon(today), tz=SHANGHAI, days=window)
        assert [s.by.date() for s in signals] == ([when] if found else [])
    (signal,) = upcoming_dates(
        [customer], now=local_noon(dt.date(2026, 12, 25)), tz=SHANGHAI, days=30
    )
    assert "(46 years)" in signal.why  # lunar year 2026 - 1980


@lunar
def test_every_place_a_lunar_date_lives_is_signalled() -> None:
    """Family members', contact persons' birthdays and key dates follow their calendar."""
    born = MID_AUTUMN_1990
    person = lunar_person(
        "家",
        dt.date(1991, 1, 1),
        family_members=(FamilyMember(relation="女儿", birthday=born, birthday_calendar=CHINESE),),
    )
    person = attrs.evolve(
        person,
        key_dates=(
            KeyDate(label="婚礼", date=born, calendar=CHINESE),
            KeyDate(label="开业", date=born, calendar=CHINESE, recurring=False),
        ),
    )
    org = lunar_organisation("org", born)
    signals = upcoming_dates([person, org], now=local_noon(dt.date(2026, 9, 20)), tz=SHANGHAI)
    assert {(s.customer_id, s.what, s.by.date()) for s in signals} == {
        ("家", "女儿's birthday", dt.date(2026, 9, 25)),
        ("家", "婚礼", dt.date(2026, 9, 25)),
        ("org", "李娜's birthday", dt.date(2026, 9, 25)),
    }


def test_without_the_extra_a_lunar_date_is_a_coded_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without borax, a Chinese-calendar occasion raises feature.unavailable naming the extra;
    Gregorian dates are signalled as before."""
    calendars._borax.cache_clear()
    monkeypatch.setitem(sys.modules, "borax", None)
    monkeypatch.setitem(sys.modules, "borax.calendars", None)
    try:
        gregorian = Customer.person_named(
            family="王",
            id="g",
            person=PersonProfile(name=PersonName(family="王"), birthday=dt.date(1990, 1, 5)),
        )
        now = local_noon(dt.date(2026, 1, 1))
        assert len(upcoming_dates([gregorian], now=now, tz=SHANGHAI)) == 1
        with pytest.raises(FeatureUnavailable, match=r"crmcore\[lunar\]") as info:
            upcoming_dates([gregorian, lunar_person("月", dt.date(1990, 10, 3))], now=now)
        assert info.value.code == "feature.unavailable"
    finally:
        calendars._borax.cache_clear()


def test_a_merge_keeps_the_birthday_with_its_calendar() -> None:
    """The surviving birthday brings its calendar, whichever customer it comes from."""
    from crmcore.rules.dedupe import FieldRule, SurvivorshipPolicy, plan_merge

    chinese = lunar_person("b", dt.date(1990, 10, 3))
    with_day = Customer.person_named(
        family="陈",
        given="月",
        id="a",
        person=PersonProfile(
            name=PersonName(family="陈", given="月"), birthday=dt.date(1990, 1, 1)
        ),
    )
    for take in ("a", "b"):
        policy = SurvivorshipPolicy(fields=(FieldRule(path="person.birthday", from_customer=take),))
        merged = plan_merge([with_day, chinese], policy=policy, survivor_id="a").customer
        assert merged.person is not None
        expected = (dt.date(1990, 1, 1), Calendar.GREGORIAN)
        if take == "b":
            expected = (dt.date(1990, 10, 3), CHINESE)
        assert (merged.person.birthday, merged.person.birthday_calendar) == expected

"""The Chinese lunisolar calendar: conversions and the anniversary rule for lunar dates.

Needs the optional extra ``crmcore[lunar]`` (the `borax <https://pypi.org/project/borax/>`_
library, MIT, imported lazily); without it every function here raises
:class:`~crmcore.errors.FeatureUnavailable` (``feature.unavailable``) naming the extra.
Pure functions: no clock, no I/O.

**Range.** Gregorian days from :data:`~crmcore.models.calendars.CHINESE_FIRST_DAY`
(1900-01-31, 正月初一 of lunar year 1900) to 2101-01-28 (the last day of lunar year 2100);
lunar years 1900 to 2100. Outside it a function raises
:class:`~crmcore.errors.ValidationError` with ``calendar.out_of_range``.

**Anniversaries** (:func:`chinese_anniversary`). A date recurs on its lunar month and
day. Two cases need a rule:

* *A leap month.* A date in a leap month (闰四月) recurs in the leap month of that
  number in the years that have one, and in the ordinary month of the same number
  (四月) in the years without (most years), which is the common custom.
* *Day 30.* A lunar month has 29 or 30 days; a date on day 30 recurs on day 29, the
  month's last day, in the years that month has 29 days.

The months of lunar years 2057, 2089 and 2097 whose new moon falls within minutes of
midnight (Beijing time) are printed one day apart by different sources; crmcore
follows borax (the Hong Kong Observatory's tables).

>>> import datetime as dt
>>> to_chinese(dt.date(2024, 9, 17))
ChineseDate(year=2024, month=8, day=15, leap=False)
>>> from_chinese(ChineseDate(year=2023, month=2, day=1, leap=True))
datetime.date(2023, 3, 22)
>>> next_chinese_occurrence(dt.date(1990, 10, 3), dt.date(2026, 1, 1))  # 八月十五
datetime.date(2026, 9, 25)
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import attrs

from crmcore.errors import FeatureUnavailable, Problem, ValidationError
from crmcore.models.calendars import CHINESE_FIRST_DAY
from crmcore.query.month_days import FULL_YEAR, upcoming

__all__ = [
    "CHINESE_DRIFT_DAYS",
    "CHINESE_LAST_CONVERTIBLE_DAY",
    "ChineseDate",
    "chinese_anniversary",
    "chinese_candidate_window",
    "from_chinese",
    "next_chinese_occurrence",
    "to_chinese",
]

FIRST_YEAR, LAST_YEAR = 1900, 2100
"""The lunar years the conversion covers."""

CHINESE_LAST_CONVERTIBLE_DAY = dt.date(2101, 1, 28)
"""The last Gregorian day with a Chinese date (the last day of lunar year 2100)."""


CHINESE_DRIFT_DAYS = 33
"""How far a Chinese-calendar anniversary can fall from the Gregorian anniversary of its day.

Over lunar years 1900 to 2100 an anniversary (with the leap-month and day-30 rules) falls
from 32 days before to 31 days after the day of birth's month and day; one more day
covers the Gregorian leap day.
"""


@attrs.frozen(kw_only=True)
class ChineseDate:
    """A day of the Chinese lunisolar calendar.

    Attributes:
        year: The lunar year, numbered by the Gregorian year its first month starts in.
        month: 1 to 12.
        day: 1 to 30.
        leap: In the leap month (闰月) following the ordinary month ``month``.
    """

    year: int
    month: int
    day: int
    leap: bool = False


@cache
def _borax() -> Any:
    """The lunar date module of borax, or a coded error naming the extra."""
    try:
        from borax.calendars import lunardate
    except ImportError as error:
        raise FeatureUnavailable(
            "Chinese-calendar dates need the borax library: pip install 'crmcore[lunar]'"
        ) from error
    return lunardate


def _has_library() -> bool:
    """Whether the lunar extra is installed (for tests that skip without it)."""
    try:
        _borax()
    except FeatureUnavailable:
        return False
    return True


def _out_of_range(path: str, what: str) -> ValidationError:
    return ValidationError(
        [Problem(code="calendar.out_of_range", path=path, message=f"{what} is outside {_RANGE}")],
        subject="ChineseDate",
    )


_RANGE = (
    f"the Chinese calendar's supported range ({CHINESE_FIRST_DAY.isoformat()} to "
    f"{CHINESE_LAST_CONVERTIBLE_DAY.isoformat()}, lunar years {FIRST_YEAR} to {LAST_YEAR})"
)


def to_chinese(day: dt.date) -> ChineseDate:
    """The Chinese date of a Gregorian day."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError(
            [Problem(code="type.invalid", path="$.day", message="expected a date")],
            subject="ChineseDate",
        )
    if not CHINESE_FIRST_DAY <= day <= CHINESE_LAST_CONVERTIBLE_DAY:
        raise _out_of_range("$.day", day.isoformat())
    lunar = _borax().LunarDate.from_solar_date(day.year, day.month, day.day)
    return ChineseDate(year=lunar.year, month=lunar.month, day=lunar.day, leap=bool(lunar.leap))


def _month_days(year: int, month: int, leap: bool) -> int | None:
    """Days in the lunar month, ``None`` when that year has no such (leap) month."""
    calendars = _borax().LCalendars
    if leap and calendars.leap_month(year) != month:
        return None
    return int(calendars.ndays(year, month, int(leap)))


def from_chinese(date: ChineseDate) -> dt.date:
    """The Gregorian day of a Chinese date; ``calendar.date_invalid`` if that day does not exist."""
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        raise _out_of_range("$.year", f"lunar year {date.year}")
    days = _month_days(date.year, date.month, date.leap) if 1 <= date.month <= 12 else None
    if days is None or not 1 <= date.day <= days:
        raise ValidationError(
            [
                Problem(
                    code="calendar.date_invalid",
                    path="$",
                    message=f"lunar year {date.year} has no {_label(date)}",
                )
            ],
            subject="ChineseDate",
        )
    lunar = _borax().LunarDate(date.year, date.month, date.day, int(date.leap))
    solar: dt.date = lunar.to_solar_date()
    return solar


def _label(date: ChineseDate) -> str:
    return f"{'leap ' if date.leap else ''}month {date.month} day {date.day}"


def chinese_anniversary(date: ChineseDate, year: int) -> dt.date:
    """The Gregorian day ``date`` recurs on in lunar year ``year`` (rules in the module doc)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _out_of_range("$.year", f"lunar year {year}")
    leap = date.leap and _month_days(year, date.month, True) is not None
    days = _month_days(year, date.month, leap)
    assert days is not None  # an ordinary month always exists
    day = min(date.day, days)
    return from_chinese(ChineseDate(year=year, month=date.month, day=day, leap=leap))


def next_chinese_occurrence(day: dt.date, today: dt.date) -> dt.date:
    """The next anniversary, on or after ``today``, of ``day`` kept by the Chinese calendar.

    ``day`` is the Gregorian day of the event; it recurs on its Chinese month and day
    (:func:`chinese_anniversary`). ``calendar.out_of_range`` when the next anniversary
    would be after 2101-01-28.
    """
    born = to_chinese(day)
    for year in (today.year - 1, today.year):
        if FIRST_YEAR <= year <= LAST_YEAR:
            when = chinese_anniversary(born, year)
            if when >= today:
                return when
    if today.year + 1 <= LAST_YEAR:
        return chinese_anniversary(born, today.year + 1)
    raise _out_of_range("$.today", f"the next anniversary after {today.isoformat()}")


def chinese_candidate_window(days: int, today: dt.date) -> tuple[str, str]:
    """The month-day window holding every Gregorian day whose Chinese anniversary can be due.

    For a store query: the customers whose date's ``MM-DD`` is in this window include
    every Chinese-calendar birthday or key date whose anniversary falls in the ``days``
    days after ``today`` (the window of :func:`~crmcore.rules.signals.upcoming_dates`,
    ``today`` and ``days`` after it), ``today`` widened by :data:`CHINESE_DRIFT_DAYS` on
    each side; pass those customers to ``upcoming_dates`` for the exact answer. Needs no
    extra.

    >>> chinese_candidate_window(14, dt.date(2026, 9, 20))
    ('08-18', '11-06')
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValidationError(
            [Problem(code="value.negative", path="$.days", message="must be a whole number >= 0")],
            subject="chinese_candidate_window",
        )
    width = days + 1 + 2 * CHINESE_DRIFT_DAYS
    if width >= 366:
        return FULL_YEAR
    return upcoming(width, today - dt.timedelta(days=CHINESE_DRIFT_DAYS))

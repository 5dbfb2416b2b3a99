"""Month-day windows over dates: birthdays and anniversaries, whatever the year.

A month-day is a date's month and day as fixed-width ``"MM-DD"`` text
(:func:`month_day_of`: 24 December 1990 is ``"12-24"``), so text order is calendar order
within a year. A window ``[start, end]`` holds the month-days from ``start`` to ``end``
inclusive; when ``start > end`` it wraps the year end (``"12-25"`` to ``"01-07"`` holds
``"12-31"`` and ``"01-01"``) (:func:`in_window`).

**29 February** is compared as the text ``"02-29"``, exactly, in every year: a window
from ``"02-20"`` to ``"02-28"`` does not hold it, one to ``"03-01"`` does. The caller picks
the window; :func:`upcoming` picks it for "the next *n* days from today" and, in a year
without 29 February, ends a window that ends on 28 February at ``"02-29"`` instead, so
that customers born on 29 February are celebrated on 28 February in those years.

>>> import datetime as dt
>>> upcoming(14, dt.date(2026, 12, 25))
('12-25', '01-07')
>>> upcoming(7, dt.date(2027, 2, 22))
('02-22', '02-29')
>>> in_window("12-31", "12-25", "01-07"), in_window("02-29", "02-20", "02-28")
(True, False)
"""

from __future__ import annotations

import calendar
import datetime as dt

from crmcore.query._errors import query_problem

__all__ = ["FULL_YEAR", "in_window", "is_month_day", "month_day_of", "upcoming"]

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

FULL_YEAR: tuple[str, str] = ("01-01", "12-31")
"""The window holding every month-day."""


def month_day_of(value: dt.date) -> str:
    """The month and day of a date as ``"MM-DD"`` (``"02-29"`` stays ``"02-29"``)."""
    return f"{value.month:02d}-{value.day:02d}"


def is_month_day(text: object) -> bool:
    """True for ``"MM-DD"`` text naming a day of some year (``"02-29"`` included).

    Only ASCII digits, zero-padded: ``"2-29"``, ``"13-01"``, ``"04-31"`` and
    ``"１２-２５"`` are not month-days.
    """
    if not (isinstance(text, str) and len(text) == 5 and text.isascii() and text[2] == "-"):
        return False
    month, day = text[:2], text[3:]
    if not (month.isdigit() and day.isdigit()):
        return False
    m, d = int(month), int(day)
    return 1 <= m <= 12 and 1 <= d <= _DAYS_IN_MONTH[m - 1]


def in_window(month_day: str, start: str, end: str) -> bool:
    """True when ``month_day`` is in ``[start, end]``, wrapping the year end if ``start > end``."""
    if start <= end:
        return start <= month_day <= end
    return month_day >= start or month_day <= end


def upcoming(days: int, today: dt.date) -> tuple[str, str]:
    """The month-day window of the ``days`` days from ``today`` (today is the first).

    ``days`` is 1 to 366; a window that holds every month-day is :data:`FULL_YEAR`. When the
    window's last day is 28 February of a year without 29 February, the window ends at
    ``"02-29"``, so a 29 February birthday falls on 28 February in those years. Use it as
    ``Field("person.birthday").month_day_between(*upcoming(7, today))``; the clock is
    the caller's (``today`` is an argument).
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise query_problem("query.value_invalid", "$.days", "must be an integer from 1 to 366")
    if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
        raise query_problem(
            "query.value_invalid", "$.today", f"expected a date, got {type(today).__name__}"
        )
    if days == 366:
        return FULL_YEAR  # 366 consecutive days hold every month-day
    last = today + dt.timedelta(days=days - 1)
    start, end = month_day_of(today), month_day_of(last)
    if end == "02-28" and not calendar.isleap(last.year):
        end = "02-29"
    if all(in_window(md, start, end) for md in _ALL_MONTH_DAYS):
        return FULL_YEAR
    return start, end


_ALL_MONTH_DAYS = tuple(
    f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, _DAYS_IN_MONTH[m - 1] + 1)
)

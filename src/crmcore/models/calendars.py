"""Which calendar a birthday or key date is kept by: Gregorian, or the Chinese lunisolar one.

A date in crmcore is always the Gregorian day the event happened (a person's day of
birth); its ``calendar`` says how it recurs. :attr:`Calendar.CHINESE` dates recur on
the same Chinese lunisolar month and day (a birthday on 八月十五 is celebrated on 八月十五
every year, a different Gregorian day each time); the conversion lives in
:mod:`crmcore.rules.calendars` (optional extra ``crmcore[lunar]``). Documents written
before the field existed read as :attr:`Calendar.GREGORIAN`.

The conversion covers the Gregorian days :data:`CHINESE_FIRST_DAY` to
:data:`CHINESE_LAST_DAY`; a model refuses a Chinese-calendar date outside them with
``calendar.out_of_range``, so a stored date always converts.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator

from crmcore.errors import Problem

__all__ = ["CHINESE_FIRST_DAY", "CHINESE_LAST_DAY", "Calendar", "calendar_problems"]


class Calendar(enum.StrEnum):
    """The calendar a recurring date follows (values are CLDR calendar identifiers)."""

    GREGORIAN = "gregorian"
    CHINESE = "chinese"


CHINESE_FIRST_DAY = dt.date(1900, 1, 31)
"""The first Gregorian day with a Chinese date: 正月初一 of lunar year 1900."""

CHINESE_LAST_DAY = dt.date(2100, 12, 31)
"""The last Gregorian day a Chinese-calendar date may be (lunar year 2100 ends 2101-01-28)."""


def calendar_problems(day: dt.date | None, calendar: Calendar, path: str) -> Iterator[Problem]:
    """``calendar.out_of_range`` at ``path`` for a Chinese-calendar date outside the range."""
    if day is None or calendar is not Calendar.CHINESE:
        return
    if not CHINESE_FIRST_DAY <= day <= CHINESE_LAST_DAY:
        yield Problem(
            code="calendar.out_of_range",
            path=path,
            message=(
                f"a Chinese-calendar date must be from {CHINESE_FIRST_DAY.isoformat()} "
                f"to {CHINESE_LAST_DAY.isoformat()}"
            ),
        )

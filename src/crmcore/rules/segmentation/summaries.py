"""Customer summaries from purchases, as of a date, one per customer and currency.

Two summaries, both pure functions of the purchases and ``as_of`` (purchases after
``as_of`` are ignored; nothing reads the clock), both kept per currency, because CNY
is never added to EUR:

* :func:`summarise_purchases` gives a :class:`CurrencySummary`: first and last
  purchase, recency in whole days, the number of purchases, the monetary total and
  mean, and the margin over the purchases whose cost is known.
* :func:`repeat_summaries` gives the repeat-purchase summary of the customer-lifetime-
  value literature (:class:`RepeatSummary`), defined exactly as lifetimes'
  ``summary_data_from_transaction_data`` defines it: purchases are floored to their
  period (day, week starting Monday, or month) in the given time zone, purchases in
  one period count once (their amounts summed), the first period is not a repeat;
  ``frequency`` is the number of repeat periods, ``recency`` the periods between the
  first and the last purchase period, ``age`` (the literature's ``T``) the periods from
  the first purchase period to the period of ``as_of``, and ``monetary_value`` the mean
  of the repeat periods' totals (0 when ``frequency`` is 0).

  Checked against lifetimes 0.11.3 (``freq="D"`` and ``"W"``, ``monetary_value_col``
  set): identical on random data once the data hold nothing after ``as_of``
  (lifetimes keeps every purchase of the period holding ``observation_period_end``;
  here purchases after ``as_of`` are ignored). For months, recency and ``age`` are
  whole calendar months between the months' first days; lifetimes 0.11.3 on pandas 3
  refuses ``freq="M"`` ("Unit M is not supported").

>>> import datetime as dt
>>> from crmcore.models import Money, Purchase
>>> at = lambda d: dt.datetime(2026, 1, d, 12, tzinfo=dt.UTC)
>>> bought = [
...     Purchase(customer_id="c1", purchased_at=at(1), amount=Money.of("10", "EUR"), product="tea"),
...     Purchase(customer_id="c1", purchased_at=at(1), amount=Money.of("5", "EUR"), product="cup"),
...     Purchase(customer_id="c1", purchased_at=at(4), amount=Money.of("20", "EUR"), product="tea"),
... ]
>>> (s,) = repeat_summaries(bought, as_of=at(10))
>>> s.frequency, s.recency, s.age, s.monetary_value
(1, Decimal('3'), Decimal('9'), Decimal('20'))
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.models import Purchase
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import divide, refuse, require_aware

__all__ = [
    "CurrencySummary",
    "Period",
    "RepeatSummary",
    "period_start",
    "periods_between",
    "repeat_summaries",
    "summarise_purchases",
    "zone",
]

_ZERO = Decimal(0)


class Period(enum.StrEnum):
    """The period repeat purchases are counted in."""

    DAY = "day"
    WEEK = "week"
    """A week starts on Monday (pandas' ``W``, weeks ending Sunday)."""
    MONTH = "month"


def require_period(value: object) -> Period:
    """Return ``value`` as a :class:`Period` (``"day"`` is ``Period.DAY``).

    Anything else raises a :class:`~crmcore.errors.ValidationError` coded
    ``value.not_allowed`` at ``$.period``.
    """
    try:
        return Period(value)  # type: ignore[arg-type]  # anything else is refused below
    except ValueError:
        allowed = ", ".join(repr(p.value) for p in Period)
        raise refuse(
            "value.not_allowed", "$.period", f"{value!r} is not one of {allowed}", "period"
        ) from None


def zone(name: str) -> ZoneInfo:
    """Return the time zone ``name`` (an IANA name such as ``"Asia/Shanghai"``).

    An unknown name raises a :class:`~crmcore.errors.ValidationError` coded
    ``timezone.unknown``.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise refuse(
            "timezone.unknown", "$.tz", f"{name!r} is not a known IANA time zone", "tz"
        ) from error


def _local_zone(name: str) -> dt.tzinfo:
    # Fast path: UTC as the standard library's singleton, which is what aware UTC
    # datetimes usually carry: their dates then need no conversion. The reference
    # (CRMCORE_NO_FAST_PATHS=1) converts every instant through the zone.
    if fast_paths_enabled() and name in ("UTC", "Etc/UTC"):
        return dt.UTC
    return zone(name)


def period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the period holding ``day``."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def periods_between(start: dt.date, end: dt.date, period: Period) -> Decimal:
    """Whole periods from the period starting ``start`` to the one starting ``end``."""
    if period is Period.MONTH:
        return Decimal((end.year - start.year) * 12 + end.month - start.month)
    days = (end - start).days
    return Decimal(days // 7 if period is Period.WEEK else days)


@attrs.frozen(kw_only=True)
class CurrencySummary:
    """What one customer bought in one currency up to ``as_of``.

    Attributes:
        customer_id: The customer.
        currency: The currency of every amount here.
        first_purchase: The earliest purchase's time.
        last_purchase: The latest purchase's time (at or before ``as_of``).
        recency_days: Whole days from the last purchase to ``as_of``.
        purchases: How many purchase records (lines) there are.
        total: The sum of their amounts (refunds are negative amounts).
        mean: ``total / purchases`` to 28 significant digits.
        margin: Amount minus cost summed over the purchases whose cost is known;
            ``None`` when no cost is known.
        costed_purchases: How many purchases have a known cost.
    """

    customer_id: str
    currency: str
    first_purchase: dt.datetime
    last_purchase: dt.datetime
    recency_days: int
    purchases: int
    total: Decimal
    mean: Decimal
    margin: Decimal | None
    costed_purchases: int


@attrs.frozen(kw_only=True)
class RepeatSummary:
    """The repeat-purchase summary of one customer in one currency (lifetimes' definition).

    Attributes:
        customer_id: The customer.
        currency: The currency of ``monetary_value``.
        period: The period counted in.
        frequency: Repeat purchase periods: periods with a purchase, minus the first.
        recency: Periods from the first to the last purchase period.
        age: Periods from the first purchase period to the period of ``as_of`` (``T``).
        monetary_value: Mean total of the repeat periods; 0 when ``frequency`` is 0.
    """

    customer_id: str
    currency: str
    period: Period
    frequency: int
    recency: Decimal
    age: Decimal
    monetary_value: Decimal


class _Totals:
    __slots__ = ("costed", "count", "first", "last", "margin", "total")

    def __init__(self, when: dt.datetime) -> None:
        self.first = self.last = when
        self.count = self.costed = 0
        self.total = self.margin = _ZERO


@item_types(purchases=Purchase)
def summarise_purchases(
    purchases: Iterable[Purchase], *, as_of: dt.datetime
) -> tuple[CurrencySummary, ...]:
    """Summarise purchases up to ``as_of`` per customer and currency, ordered by both.

    The result does not depend on the order of ``purchases``.
    """
    as_of = require_aware(as_of, "as_of")
    rows: dict[tuple[str, str], _Totals] = {}
    for purchase in purchases:
        when = purchase.purchased_at
        if when > as_of:
            continue
        amount = purchase.amount
        key = (purchase.customer_id, amount.currency)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Totals(when)
        else:
            if when < row.first:
                row.first = when
            if when > row.last:
                row.last = when
        row.count += 1
        row.total += amount.amount
        cost = purchase.cost
        if cost is not None:
            row.margin += amount.amount - cost.amount
            row.costed += 1
    out: list[CurrencySummary] = []
    for (customer_id, currency), row in sorted(rows.items(), key=lambda item: item[0]):
        out.append(
            CurrencySummary(
                customer_id=customer_id,
                currency=currency,
                first_purchase=row.first,
                last_purchase=row.last,
                recency_days=(as_of - row.last).days,
                purchases=row.count,
                total=row.total,
                mean=divide(row.total, row.count),
                margin=row.margin if row.costed else None,
                costed_purchases=row.costed,
            )
        )
    return tuple(out)


@item_types(purchases=Purchase)
def repeat_summaries(
    purchases: Iterable[Purchase],
    *,
    as_of: dt.datetime,
    period: Period = Period.DAY,
    tz: str = "UTC",
) -> tuple[RepeatSummary, ...]:
    """The repeat-purchase summary per customer and currency, ordered by both.

    Purchases are placed in periods by their date in time zone ``tz``; the period of
    ``as_of`` (in ``tz``) ends the observation. Purchases after ``as_of`` are ignored.
    """
    as_of = require_aware(as_of, "as_of")
    period = require_period(period)
    local = _local_zone(tz)
    if fast_paths_enabled():
        return _repeat_by_index(purchases, as_of, period, local)
    by_day = period is Period.DAY
    starts: dict[dt.date, dt.date] = {}
    periods: dict[tuple[str, str], dict[dt.date, Decimal]] = {}
    for purchase in purchases:
        when = purchase.purchased_at
        if when > as_of:
            continue
        day = when.date() if when.tzinfo is local else when.astimezone(local).date()
        if by_day:
            start = day
        else:
            start = starts.get(day)  # type: ignore[assignment]
            if start is None:
                start = starts[day] = period_start(day, period)
        amount = purchase.amount
        key = (purchase.customer_id, amount.currency)
        totals = periods.get(key)
        if totals is None:
            totals = periods[key] = {start: amount.amount}
        else:
            totals[start] = totals.get(start, _ZERO) + amount.amount
    end = period_start(as_of.astimezone(local).date(), period)
    between = periods_between
    out: list[RepeatSummary] = []
    for key in sorted(periods):
        totals = periods[key]
        first = min(totals)
        frequency = len(totals) - 1
        if frequency:
            recency = between(first, max(totals), period)
            monetary = divide(sum(totals.values(), _ZERO) - totals[first], frequency)
        else:
            recency, monetary = _ZERO, _ZERO
        out.append(
            RepeatSummary(
                customer_id=key[0],
                currency=key[1],
                period=period,
                frequency=frequency,
                recency=recency,
                age=between(first, end, period),
                monetary_value=monetary,
            )
        )
    return tuple(out)


def _month_index(ordinal: int) -> int:
    day = dt.date.fromordinal(ordinal)
    return day.year * 12 + day.month - 1


class _Bought(list[Any]):
    """One customer's purchases in one currency: day ordinal, amount, day, amount, ..."""

    __slots__ = ("currency",)
    currency: str


def _repeat_by_index(
    purchases: Iterable[Purchase], as_of: dt.datetime, period: Period, local: dt.tzinfo
) -> tuple[RepeatSummary, ...]:
    """:func:`repeat_summaries` with each period a whole number: the fast path.

    The reference (``CRMCORE_NO_FAST_PATHS=1``: the loop above) keeps dates and a dict
    of period totals per customer and currency. Here the loop only appends each
    purchase's local day (its proleptic ordinal) and amount to one flat list per
    customer, found by the customer id alone (the list remembers its currency; a
    customer's other currencies get lists of their own): no key tuple, no dict per
    customer, no sum per purchase. Each list is then summarised with C builtins
    (slices, ``set``, ``min``, ``max``, ``count``, ``sum``). A period is the ordinal
    (day), the week count from 1 January of year 1, a Monday (week), or ``12 * year +
    month - 1`` (month, remembered per day): ``periods_between`` is then a
    difference of indexes. The amounts are exact decimals, so summing them in purchase
    order rather than period by period gives the same value and exponent (money has
    at most six places and 12 integer digits: far inside 28 digits).
    """
    home: dict[str, _Bought] = {}
    other: dict[tuple[str, str], _Bought] = {}
    bought: _Bought | None
    for purchase in purchases:
        when = purchase.purchased_at
        if when > as_of:
            continue
        amount = purchase.amount
        currency = amount.currency
        customer_id = purchase.customer_id
        bought = home.get(customer_id)
        if bought is None:
            bought = home[customer_id] = _Bought()
            bought.currency = currency
        elif bought.currency != currency:
            key = (customer_id, currency)
            bought = other.get(key)
            if bought is None:
                bought = other[key] = _Bought()
                bought.currency = currency
        day = when.toordinal() if when.tzinfo is local else when.astimezone(local).toordinal()
        bought += (day, amount.amount)
    groups = [(customer_id, b.currency, b) for customer_id, b in home.items()]
    groups.extend((customer_id, currency, b) for (customer_id, currency), b in other.items())
    groups.sort(key=lambda group: (group[0], group[1]))
    end_day = as_of.astimezone(local).toordinal()
    if period is Period.DAY:
        end = end_day
    elif period is Period.WEEK:
        end = (end_day - 1) // 7
    else:
        end = _month_index(end_day)
    months: dict[int, int] = {}
    numbers: dict[int, Decimal] = {}  # equal recencies and ages share one Decimal
    out: list[RepeatSummary] = []
    for customer_id, currency, bought in groups:
        days: list[int] = bought[0::2]
        if period is Period.WEEK:
            days = [(day - 1) // 7 for day in days]
        elif period is Period.MONTH:
            days = [months.get(day) or months.setdefault(day, _month_index(day)) for day in days]
        first = min(days)
        frequency = len(set(days)) - 1
        if frequency:
            values: list[Decimal] = bought[1::2]
            if days.count(first) == 1:
                head = values[days.index(first)]
            else:  # the first period's total, summed in purchase order
                firsts = [v for d, v in zip(days, values, strict=True) if d == first]
                head = sum(firsts[1:], firsts[0])
            span = max(days) - first
            recency = numbers.get(span) or numbers.setdefault(span, Decimal(span))
            monetary = divide(sum(values, _ZERO) - head, frequency)
        else:
            recency, monetary = _ZERO, _ZERO
        span = end - first
        out.append(
            RepeatSummary(
                customer_id=customer_id,
                currency=currency,
                period=period,
                frequency=frequency,
                recency=recency,
                age=numbers.get(span) or numbers.setdefault(span, Decimal(span)),
                monetary_value=monetary,
            )
        )
    return tuple(out)

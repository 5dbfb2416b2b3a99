"""The demo's summary of a customer database: plain data computed from models."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.models import Complaint, Customer, Purchase

__all__ = ["Anniversary", "DatabaseSummary", "Ranking", "summarise"]


@attrs.frozen(kw_only=True)
class Ranking:
    """One customer's purchases in one currency."""

    customer_id: str
    display_name: str
    currency: str
    total: Decimal
    margin: Decimal
    orders: int


@attrs.frozen(kw_only=True)
class Anniversary:
    """A date coming up: a birthday, a family member's birthday or a key date."""

    customer_id: str
    display_name: str
    what: str
    on: dt.date
    in_days: int


@attrs.frozen(kw_only=True)
class DatabaseSummary:
    """What ``crmcore demo`` prints about the database it built."""

    customers: int
    by_kind: dict[str, int]
    by_country: dict[str, int]
    by_stage: dict[str, int]
    roster: tuple[tuple[str, str, dt.date | None], ...]
    rankings: tuple[Ranking, ...]
    open_complaints: tuple[tuple[Complaint, bool], ...]
    upcoming: tuple[Anniversary, ...]


def _next_occurrence(day: dt.date, today: dt.date) -> dt.date:
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February outside a leap year: celebrate on 28 February
            candidate = dt.date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def _dates_of(customer: Customer) -> Iterable[tuple[str, dt.date]]:
    if customer.person is not None:
        if customer.person.birthday is not None:
            yield "birthday", customer.person.birthday
        for member in customer.person.family_members:
            if member.birthday is not None:
                yield f"{member.relation}'s birthday", member.birthday
    for key_date in customer.key_dates:
        if key_date.recurring:
            yield key_date.label, key_date.date


def summarise(
    customers: Iterable[Customer],
    purchases: Iterable[Purchase],
    complaints: Iterable[Complaint],
    *,
    now: dt.datetime,
    horizon_days: int = 30,
) -> DatabaseSummary:
    """Summarise a customer database as of ``now``; pure, deterministic."""
    people = sorted(customers, key=lambda c: c.id)
    names = {c.id: c.display_name for c in people}
    today = now.date()
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)]
    )
    for purchase in purchases:
        row = totals[(purchase.customer_id, purchase.amount.currency)]
        row[0] += purchase.amount.amount
        row[1] += purchase.margin.amount if purchase.margin is not None else Decimal(0)
        row[2] += 1
    rankings = sorted(
        (
            Ranking(
                customer_id=cid,
                display_name=names.get(cid, cid),
                currency=currency,
                total=total,
                margin=margin,
                orders=int(count),
            )
            for (cid, currency), (total, margin, count) in totals.items()
        ),
        key=lambda r: (r.currency, -r.total, r.customer_id),
    )
    upcoming = []
    for customer in people:
        for what, day in _dates_of(customer):
            when = _next_occurrence(day, today)
            if (when - today).days <= horizon_days:
                upcoming.append(
                    Anniversary(
                        customer_id=customer.id,
                        display_name=customer.display_name,
                        what=what,
                        on=when,
                        in_days=(when - today).days,
                    )
                )
    countries: Counter[str] = Counter()
    for customer in people:
        address = customer.primary_address
        countries[address.country if address else "unknown"] += 1
    open_complaints = sorted(
        (c for c in complaints if c.state.is_open), key=lambda c: (c.received_at, c.id)
    )
    return DatabaseSummary(
        customers=len(people),
        by_kind=dict(sorted(Counter(c.kind.value for c in people).items())),
        by_country=dict(sorted(countries.items())),
        by_stage=dict(sorted(Counter(c.lifecycle_stage.value for c in people).items())),
        roster=tuple(
            (c.id, c.display_name, c.acquired_on)
            for c in sorted(people, key=lambda c: (c.acquired_on or dt.date.max, c.id))
        ),
        rankings=tuple(rankings),
        open_complaints=tuple(
            (c, c.response_overdue(now) or c.resolution_overdue(now)) for c in open_complaints
        ),
        upcoming=tuple(sorted(upcoming, key=lambda a: (a.in_days, a.customer_id, a.what))),
    )

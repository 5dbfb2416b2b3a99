"""The demo's summary of a customer database, computed by the segmentation views and signals."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

import attrs

from crmcore.models import Complaint, Customer, Purchase
from crmcore.rules.segmentation import (
    Ranking,
    complaint_analysis,
    group_by_region,
    rank_by_amount,
    roster,
    summarise_purchases,
)
from crmcore.rules.signals import upcoming_dates

__all__ = ["Anniversary", "DatabaseSummary", "Ranking", "summarise"]


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


def summarise(
    customers: Iterable[Customer],
    purchases: Iterable[Purchase],
    complaints: Iterable[Complaint],
    *,
    now: dt.datetime,
    horizon_days: int = 30,
) -> DatabaseSummary:
    """Summarise a customer database as of ``now`` (UTC dates); pure, deterministic."""
    people = sorted(customers, key=lambda c: c.id)
    names = {c.id: c.display_name for c in people}
    today = now.astimezone(dt.UTC).date()
    rankings = rank_by_amount(summarise_purchases(purchases, as_of=now), names=names)
    upcoming = tuple(
        Anniversary(
            customer_id=s.customer_id,
            display_name=names[s.customer_id],
            what=s.what,
            on=s.by.date(),
            in_days=(s.by.date() - today).days,
        )
        for s in upcoming_dates(people, now=now, tz="UTC", days=horizon_days)
    )
    complaint_list = sorted(complaints, key=lambda c: (c.received_at, c.id))
    analysis = complaint_analysis(complaint_list, now=now)
    breached = {*analysis.response_breaches, *analysis.resolution_breaches}
    return DatabaseSummary(
        customers=len(people),
        by_kind=dict(sorted(Counter(c.kind.value for c in people).items())),
        by_country={k: len(ids) for k, ids in group_by_region(people).items()},
        by_stage=dict(sorted(Counter(c.lifecycle_stage.value for c in people).items())),
        roster=tuple((e.customer_id, e.display_name, e.acquired_on) for e in roster(people)),
        rankings=rankings,
        open_complaints=tuple((c, c.id in breached) for c in complaint_list if c.state.is_open),
        upcoming=upcoming,
    )

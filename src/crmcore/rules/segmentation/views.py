"""The views the brief asks for, as library calls over plain models with stable results.

Every view orders its rows fully (ties broken by id), so the same input always gives
the same output, whatever order it came in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from crmcore.models import (
    ChangeRecord,
    Complaint,
    ComplaintState,
    CreditStanding,
    Customer,
    DecisionRole,
    Interaction,
    OrganisationSize,
    Purchase,
)
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import refuse
from crmcore.rules.segmentation.summaries import CurrencySummary

__all__ = [
    "ChainLink",
    "ChronicleEvent",
    "ComplaintAnalysis",
    "Ranking",
    "RosterEntry",
    "chronicle",
    "complaint_analysis",
    "decision_chain",
    "grades",
    "group_by_region",
    "rank_by_amount",
    "roster",
]


@attrs.frozen(kw_only=True)
class RosterEntry:
    """One line of the roster."""

    customer_id: str
    display_name: str
    acquired_on: dt.date | None


@item_types(customers=Customer)
def roster(customers: Iterable[Customer]) -> tuple[RosterEntry, ...]:
    """Customers in order of acquisition (unknown dates last), then by id."""
    ordered = sorted(customers, key=lambda c: (c.acquired_on or dt.date.max, c.id))
    return tuple(
        RosterEntry(customer_id=c.id, display_name=c.display_name, acquired_on=c.acquired_on)
        for c in ordered
    )


@attrs.frozen(kw_only=True)
class Ranking:
    """One customer's purchases in one currency, for the ranking by amount."""

    customer_id: str
    display_name: str
    currency: str
    total: Decimal
    margin: Decimal | None
    purchases: int


@item_types(summaries=CurrencySummary)
def rank_by_amount(
    summaries: Iterable[CurrencySummary], *, names: Mapping[str, str] | None = None
) -> tuple[Ranking, ...]:
    """Customers ranked by total amount within each currency (currencies A to Z, then id).

    ``names`` maps customer ids to display names; an id without one shows itself.
    """
    names = names or {}
    rows = sorted(summaries, key=lambda s: (s.currency, -s.total, s.customer_id))
    return tuple(
        Ranking(
            customer_id=s.customer_id,
            display_name=names.get(s.customer_id, s.customer_id),
            currency=s.currency,
            total=s.total,
            margin=s.margin,
            purchases=s.purchases,
        )
        for s in rows
    )


_CREDIT_ORDER = tuple(CreditStanding)
_SIZE_ORDER = tuple(reversed(OrganisationSize))


@item_types(customers=Customer)
def grades(customers: Iterable[Customer], *, by: str = "credit") -> dict[str, tuple[str, ...]]:
    """Organisation customers' ids grouped by credit standing or size, best or largest first.

    ``by`` is ``"credit"`` or ``"size"``; organisations without a size are under
    ``"unknown"``, last; person customers are left out.
    """
    if by not in ("credit", "size"):
        raise refuse("value.not_allowed", "$.by", "must be 'credit' or 'size'", "by")
    order = [g.value for g in (_CREDIT_ORDER if by == "credit" else _SIZE_ORDER)] + ["unknown"]
    found: dict[str, list[str]] = {}
    for c in customers:
        org = c.organisation
        if org is None:
            continue
        if by == "credit":
            grade = org.credit_standing.value
        else:
            grade = org.size.value if org.size is not None else "unknown"
        found.setdefault(grade, []).append(c.id)
    return {g: tuple(sorted(found[g])) for g in order if g in found}


@item_types(customers=Customer)
def group_by_region(
    customers: Iterable[Customer], *, level: str = "country"
) -> dict[str, tuple[str, ...]]:
    """Customer ids grouped by their primary address's country, region or city.

    ``level`` is ``"country"``, ``"region"`` (``"CN/北京市"``) or ``"city"``
    (``"CN/上海市/上海"``); customers without one are under ``"unknown"``. Groups A to Z.
    """
    if level not in ("country", "region", "city"):
        raise refuse(
            "value.not_allowed", "$.level", "must be 'country', 'region' or 'city'", "level"
        )
    found: dict[str, list[str]] = {}
    for c in customers:
        address = c.primary_address
        if address is None:
            key = "unknown"
        else:
            parts = [address.country]
            if level in ("region", "city"):
                parts.append(address.region or "?")
            if level == "city":
                parts.append(address.city or "?")
            key = "/".join(parts)
        found.setdefault(key, []).append(c.id)
    return {key: tuple(sorted(ids)) for key, ids in sorted(found.items())}


@attrs.frozen(kw_only=True)
class ChainLink:
    """One person in an organisation's decision chain."""

    person_id: str
    name: str
    role: DecisionRole
    key_person: bool
    title: str | None
    department: str | None


_ROLE_ORDER = {role: i for i, role in enumerate(DecisionRole)}


def decision_chain(customer: Customer) -> tuple[ChainLink, ...]:
    """An organisation's contact persons in decision order; empty for a person customer.

    Ordered by role (decision maker, approver, influencer, buyer, user, gatekeeper,
    champion, technical evaluator, other), key people first within a role, then by
    name and id.
    """
    if customer.organisation is None:
        return ()
    people = sorted(
        customer.organisation.contact_persons,
        key=lambda p: (_ROLE_ORDER[p.role], not p.key_person, p.name.sort_key, p.id),
    )
    return tuple(
        ChainLink(
            person_id=p.id,
            name=p.name.display,
            role=p.role,
            key_person=p.key_person,
            title=p.title,
            department=p.department,
        )
        for p in people
    )


@attrs.frozen(kw_only=True)
class ChronicleEvent:
    """One major event in a customer's history."""

    at: dt.datetime
    kind: str
    summary: str
    subject_id: str | None = None


@item_types(
    purchases=Purchase, interactions=Interaction, complaints=Complaint, history=ChangeRecord
)
def chronicle(
    customer: Customer,
    *,
    purchases: Iterable[Purchase] = (),
    interactions: Iterable[Interaction] = (),
    complaints: Iterable[Complaint] = (),
    history: Iterable[ChangeRecord] = (),
) -> tuple[ChronicleEvent, ...]:
    """A customer's major events, oldest first.

    The events: becoming a customer, the first purchase in each currency, interactions
    marked ``major_event``, complaints received and resolved, and changes of lifecycle
    stage in the change history. Records of other customers are ignored.
    """
    cid = customer.id
    events: list[ChronicleEvent] = [
        ChronicleEvent(at=customer.created_at, kind="recorded", summary="customer recorded")
    ]
    first: dict[str, Purchase] = {}
    for p in purchases:
        if p.customer_id != cid:
            continue
        known = first.get(p.amount.currency)
        if known is None or (p.purchased_at, p.id) < (known.purchased_at, known.id):
            first[p.amount.currency] = p
    for currency, p in first.items():
        events.append(
            ChronicleEvent(
                at=p.purchased_at,
                kind="first_purchase",
                summary=f"first purchase in {currency}: {p.product}, {p.amount.amount} {currency}",
                subject_id=p.id,
            )
        )
    for i in interactions:
        if i.customer_id == cid and i.major_event:
            events.append(
                ChronicleEvent(
                    at=i.occurred_at, kind="interaction", summary=i.subject, subject_id=i.id
                )
            )
    for c in complaints:
        if c.customer_id != cid:
            continue
        events.append(
            ChronicleEvent(
                at=c.received_at,
                kind="complaint_received",
                summary=f"{c.severity.value} {c.category} complaint",
                subject_id=c.id,
            )
        )
        if c.resolved_at is not None:
            events.append(
                ChronicleEvent(
                    at=c.resolved_at,
                    kind="complaint_resolved",
                    summary=f"{c.category} complaint resolved: {c.resolution or ''}".rstrip(": "),
                    subject_id=c.id,
                )
            )
    for record in history:
        if record.customer_id != cid:
            continue
        for change in record.changes:
            if change.path == "$.lifecycle_stage":
                events.append(
                    ChronicleEvent(
                        at=record.at,
                        kind="lifecycle",
                        summary=f"lifecycle stage {change.old} -> {change.new}",
                        subject_id=record.id,
                    )
                )
    events.sort(key=lambda e: (e.at, e.kind, e.subject_id or ""))
    return tuple(events)


@attrs.frozen(kw_only=True)
class ComplaintAnalysis:
    """Counts and times of a set of complaints.

    Attributes:
        complaints: How many.
        open: How many are still open.
        by_category: Counts by category, A to Z.
        by_cause: Counts by root cause (``"unknown"`` when not recorded), A to Z.
        by_state: Counts by state, in the state machine's order.
        response_times: Mean, median and maximum time to first response, over the
            complaints that had one (``None`` when none had).
        resolution_times: The same for the time to the last resolution.
        response_breaches: Ids of complaints whose response deadline was missed.
        resolution_breaches: Ids of complaints whose resolution deadline was missed.
    """

    complaints: int
    open: int
    by_category: dict[str, int]
    by_cause: dict[str, int]
    by_state: dict[str, int]
    response_times: tuple[dt.timedelta, dt.timedelta, dt.timedelta] | None
    resolution_times: tuple[dt.timedelta, dt.timedelta, dt.timedelta] | None
    response_breaches: tuple[str, ...]
    resolution_breaches: tuple[str, ...]


def _times(spans: list[dt.timedelta]) -> tuple[dt.timedelta, dt.timedelta, dt.timedelta] | None:
    if not spans:
        return None
    ordered = sorted(spans)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return (sum(ordered, dt.timedelta()) / len(ordered), median, ordered[-1])


def _counts(values: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return dict(sorted(found.items()))


@item_types(complaints=Complaint)
def complaint_analysis(complaints: Iterable[Complaint], *, now: dt.datetime) -> ComplaintAnalysis:
    """Analyse complaints as of ``now``.

    Counts by category, cause and state, times to first response and to resolution,
    and SLA breaches (ids A to Z).
    """
    rows = sorted(complaints, key=lambda c: c.id)
    states = _counts(c.state.value for c in rows)
    responded = [c.responded_at - c.received_at for c in rows if c.responded_at is not None]
    resolved = [c.resolved_at - c.received_at for c in rows if c.resolved_at is not None]
    return ComplaintAnalysis(
        complaints=len(rows),
        open=sum(c.state.is_open for c in rows),
        by_category=_counts(c.category for c in rows),
        by_cause=_counts(c.root_cause or "unknown" for c in rows),
        by_state={s.value: states[s.value] for s in ComplaintState if s.value in states},
        response_times=_times(responded),
        resolution_times=_times(resolved),
        response_breaches=tuple(c.id for c in rows if c.response_overdue(now)),
        resolution_breaches=tuple(c.id for c in rows if c.resolution_overdue(now)),
    )

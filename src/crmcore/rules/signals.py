"""Signals: what needs attention now, each saying which customer, what, why and by when.

All functions take ``now`` (an aware datetime) and the store's time zone ``tz`` (an
IANA name); none reads the clock.

* :func:`upcoming_dates`: birthdays (the customer's, family members', contact
  persons'), recurring key dates and founding anniversaries in the next ``days``
  days, counted in local dates. **29 February** is celebrated on 28 February in
  years without it. A key date that does not recur is signalled only before it.
  A date kept by the Chinese calendar (``birthday_calendar`` / ``calendar`` is
  :attr:`~crmcore.models.Calendar.CHINESE`) recurs on its lunar month and day, with
  the leap-month and day-30 rules of :mod:`crmcore.rules.calendars`; it needs the
  extra ``crmcore[lunar]`` (else :class:`~crmcore.errors.FeatureUnavailable`).
  ``OrganisationProfile.founded_on`` has no calendar: the founding anniversary is
  Gregorian; a founding day kept by the Chinese calendar is a key date with
  ``calendar=Calendar.CHINESE``.
* :func:`purchase_declines`: customers buying less often, or for less, than their
  own history says (the test is described at :class:`DeclineSpec`).
* :func:`complaint_signals`: open complaints past, or within ``warn_within`` of,
  their response or resolution deadline.
* :func:`reverification_signals`: facts due for re-verification, from
  :func:`crmcore.rules.verification.due_for_reverification`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction
from math import comb

import attrs

from crmcore.errors import Problem
from crmcore.models import Calendar, Complaint, Customer, Purchase
from crmcore.models._base import checks, positive
from crmcore.rules._items import item_types
from crmcore.rules.calendars import next_chinese_occurrence, to_chinese
from crmcore.rules.segmentation import Explanation, Factor
from crmcore.rules.segmentation._common import divide, refuse, require_aware
from crmcore.rules.segmentation.summaries import zone
from crmcore.rules.verification import ReverificationPolicy, Spec, due_for_reverification
from crmcore.rules.verification.schedule import fact_label

__all__ = [
    "DeclineSpec",
    "Signal",
    "SignalKind",
    "complaint_signals",
    "next_occurrence",
    "poisson_decline_p_value",
    "purchase_declines",
    "reverification_signals",
    "upcoming_dates",
]


class SignalKind(enum.StrEnum):
    """What a signal is about."""

    UPCOMING_DATE = "date.upcoming"
    FALLING_FREQUENCY = "purchases.falling_frequency"
    FALLING_AMOUNT = "purchases.falling_amount"
    COMPLAINT_OVERDUE = "complaint.overdue"
    COMPLAINT_DUE_SOON = "complaint.due_soon"
    REVERIFICATION_DUE = "verification.due"


@attrs.frozen(kw_only=True)
class Signal:
    """Something about a customer that needs attention.

    Attributes:
        customer_id: Which customer.
        kind: What kind of signal.
        what: What it is, in words (``"birthday"``, ``"response to complaint"``).
        why: Why it was raised, in words.
        by: By when to act (an aware datetime in the given time zone).
        subject_id: What inside the customer it concerns: a complaint id, a path.
        explanation: The values and thresholds that raised it.
    """

    customer_id: str
    kind: SignalKind
    what: str
    why: str
    by: dt.datetime
    subject_id: str | None = None
    explanation: Explanation | None = None


def _today(now: dt.datetime, tz: str) -> tuple[dt.date, dt.tzinfo]:
    local = zone(tz)
    return require_aware(now, "now").astimezone(local).date(), local


def _start_of(day: dt.date, local: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=local)


# --------------------------------------------------------------------------- dates


def next_occurrence(day: dt.date, today: dt.date) -> dt.date:
    """The next anniversary of ``day`` on or after ``today``; 29 February on 28 February."""
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February outside a leap year
            candidate = dt.date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def _occasions(customer: Customer) -> Iterator[tuple[str, dt.date, bool, Calendar]]:
    gregorian = Calendar.GREGORIAN
    if customer.person is not None:
        if customer.person.birthday is not None:
            yield "birthday", customer.person.birthday, True, customer.person.birthday_calendar
        for member in customer.person.family_members:
            if member.birthday is not None:
                yield (
                    f"{member.relation}'s birthday",
                    member.birthday,
                    True,
                    member.birthday_calendar,
                )
    org = customer.organisation
    if org is not None:
        if org.founded_on is not None:
            yield "founding anniversary", org.founded_on, True, gregorian
        for person in org.contact_persons:
            if person.birthday is not None:
                yield (
                    f"{person.name.display}'s birthday",
                    person.birthday,
                    True,
                    person.birthday_calendar,
                )
    for key_date in customer.key_dates:
        yield key_date.label, key_date.date, key_date.recurring, key_date.calendar


def _recurrence(day: dt.date, today: dt.date, calendar: Calendar) -> tuple[dt.date, int, str]:
    """The next occurrence, its count of years, and how it recurs in words."""
    if calendar is Calendar.CHINESE:
        born = to_chinese(day)
        when = next_chinese_occurrence(day, today)
        lunar = to_chinese(when)
        shown = f"{'leap ' if born.leap else ''}month {born.month} day {born.day}"
        return when, lunar.year - born.year, f"Chinese calendar {shown}"
    when = next_occurrence(day, today)
    return when, when.year - day.year, ""


@item_types(customers=Customer)
def upcoming_dates(
    customers: Iterable[Customer], *, now: dt.datetime, tz: str = "UTC", days: int = 30
) -> tuple[Signal, ...]:
    """Dates that matter in the next ``days`` days, soonest first, then by customer and what."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise refuse("type.invalid", "$.days", f"expected int, got {type(days).__name__}", "days")
    if days < 0:
        raise refuse("value.negative", "$.days", "must not be negative", "days")
    today, local = _today(now, tz)
    out = []
    for customer in customers:
        for what, day, recurring, calendar in _occasions(customer):
            kept = ""
            if recurring:
                when, years, kept = _recurrence(day, today, calendar)
            else:
                when, years = day, 0
            in_days = (when - today).days
            if not 0 <= in_days <= days:
                continue
            out.append(
                Signal(
                    customer_id=customer.id,
                    kind=SignalKind.UPCOMING_DATE,
                    what=what,
                    why=f"{what} on {when.isoformat()}, in {in_days} days"
                    + (f" ({years} years)" if recurring and years > 0 else "")
                    + (f", by the {kept}" if kept else ""),
                    by=_start_of(when, local),
                    explanation=Explanation(
                        rule="upcoming_dates",
                        outcome=when.isoformat(),
                        factors=(
                            Factor(
                                name="in_days",
                                value=Decimal(in_days),
                                cut_points=(Decimal(days),),
                                rule="signalled at or below the cut point",
                            ),
                        ),
                        reason=f"{what} ({day.isoformat()}"
                        + (f", kept by the {kept}" if kept else "")
                        + f") next falls on {when.isoformat()}",
                    ),
                )
            )
    out.sort(key=lambda s: (s.by, s.customer_id, s.what))
    return tuple(out)


# --------------------------------------------------------------------------- declines


@attrs.frozen(kw_only=True)
class DeclineSpec(Spec):
    """When a customer's buying counts as falling against their own history.

    Purchases are counted as purchase days (local dates with at least one purchase).
    The recent window is the last ``recent_days`` days up to today; the history is
    everything from the first purchase day to the day before the window, and must
    span at least ``min_history_days`` with at least ``min_history_purchase_days``.

    Frequency: under the hypothesis that the customer buys at one steady (Poisson)
    rate, the recent window's share of all ``n`` purchase days is binomial with
    ``p = recent_days / (history days + recent_days)``. The exact one-sided p-value
    ``P(X <= recent count)`` (the conditional test for comparing two Poisson rates)
    is computed in exact fractions; a p-value at or below ``alpha`` is a decline.

    Amount: per currency, the mean amount per purchase day in the window against
    the history; a ratio below ``amount_ratio`` is a decline, when the window has at
    least ``min_recent_purchase_days`` purchase days.
    """

    TAG = "purchase_decline"
    kind: str = "purchase_decline"
    recent_days: int = attrs.field(default=90, metadata=checks(positive))
    min_history_days: int = attrs.field(default=180, metadata=checks(positive))
    min_history_purchase_days: int = attrs.field(default=3, metadata=checks(positive))
    alpha: Decimal = Decimal("0.05")
    amount_ratio: Decimal = Decimal("0.7")
    min_recent_purchase_days: int = attrs.field(default=2, metadata=checks(positive))
    act_within_days: int = attrs.field(default=14, metadata=checks(positive))

    def _spec_invariants(self) -> Iterable[Problem]:
        for name in ("alpha", "amount_ratio"):
            if not Decimal(0) < getattr(self, name) < 1:
                yield Problem(
                    code="signal.threshold_invalid",
                    path=f"$.{name}",
                    message="must be between 0 and 1",
                )


def poisson_decline_p_value(
    history_count: int, history_days: int, recent_count: int, recent_days: int
) -> Fraction:
    """Exact one-sided p-value that the recent rate is below the history's rate.

    ``P(X <= recent_count)`` for ``X ~ Binomial(n, recent_days / (history_days +
    recent_days))`` with ``n = history_count + recent_count``.
    """
    n = history_count + recent_count
    p = Fraction(recent_days, history_days + recent_days)
    q = 1 - p
    return sum((comb(n, i) * p**i * q ** (n - i) for i in range(recent_count + 1)), Fraction(0))


@item_types(purchases=Purchase)
def purchase_declines(
    spec: DeclineSpec, purchases: Iterable[Purchase], *, now: dt.datetime, tz: str = "UTC"
) -> tuple[Signal, ...]:
    """Customers whose purchase frequency or amount is falling; by customer, then kind."""
    today, local = _today(now, tz)
    window_start = today - dt.timedelta(days=spec.recent_days - 1)
    days_by: dict[str, set[dt.date]] = {}
    money_by: dict[str, dict[str, dict[dt.date, Decimal]]] = {}
    for purchase in purchases:
        day = purchase.purchased_at.astimezone(local).date()
        if day > today:
            continue
        days_by.setdefault(purchase.customer_id, set()).add(day)
        per_currency = money_by.setdefault(purchase.customer_id, {})
        totals = per_currency.setdefault(purchase.amount.currency, {})
        totals[day] = totals.get(day, Decimal(0)) + purchase.amount.amount
    by = _start_of(today + dt.timedelta(days=spec.act_within_days), local)
    out: list[Signal] = []
    for customer_id in sorted(days_by):
        days = days_by[customer_id]
        first = min(days)
        history_days = (window_start - first).days
        history = sum(d < window_start for d in days)
        if history_days < spec.min_history_days or history < spec.min_history_purchase_days:
            continue
        recent = len(days) - history
        p_value = poisson_decline_p_value(history, history_days, recent, spec.recent_days)
        expected = divide(Decimal(history * spec.recent_days), history_days)
        if p_value <= Fraction(spec.alpha):
            shown = divide(Decimal(p_value.numerator), p_value.denominator)
            out.append(
                Signal(
                    customer_id=customer_id,
                    kind=SignalKind.FALLING_FREQUENCY,
                    what="purchase frequency falling",
                    why=(
                        f"{recent} purchase days in the last {spec.recent_days} days against "
                        f"{expected:.2f} expected from {history} in the {history_days} days "
                        f"before (one-sided Poisson p = {shown:.4f} <= {spec.alpha})"
                    ),
                    by=by,
                    explanation=Explanation(
                        rule=spec.kind,
                        outcome=SignalKind.FALLING_FREQUENCY.value,
                        factors=(
                            Factor(name="recent_purchase_days", value=Decimal(recent)),
                            Factor(name="expected_recent_purchase_days", value=expected),
                            Factor(name="history_purchase_days", value=Decimal(history)),
                            Factor(name="history_days", value=Decimal(history_days)),
                            Factor(
                                name="p_value",
                                value=shown,
                                cut_points=(spec.alpha,),
                                rule="a decline at or below alpha",
                            ),
                        ),
                        reason="recent purchase rate below the customer's own history",
                    ),
                )
            )
        for currency, totals in sorted(money_by[customer_id].items()):
            earlier = [v for d, v in totals.items() if d < window_start]
            latest = [v for d, v in totals.items() if d >= window_start]
            if len(latest) < spec.min_recent_purchase_days or not earlier:
                continue
            before = divide(sum(earlier, Decimal(0)), len(earlier))
            after = divide(sum(latest, Decimal(0)), len(latest))
            if before <= 0:
                continue
            ratio = divide(after, before)
            if ratio < spec.amount_ratio:
                out.append(
                    Signal(
                        customer_id=customer_id,
                        kind=SignalKind.FALLING_AMOUNT,
                        what=f"purchase amount falling ({currency})",
                        why=(
                            f"{after:.2f} {currency} per purchase day in the last "
                            f"{spec.recent_days} days against {before:.2f} before "
                            f"(ratio {ratio:.2f} < {spec.amount_ratio})"
                        ),
                        by=by,
                        subject_id=currency,
                        explanation=Explanation(
                            rule=spec.kind,
                            outcome=SignalKind.FALLING_AMOUNT.value,
                            factors=(
                                Factor(name="recent_mean", value=after),
                                Factor(name="history_mean", value=before),
                                Factor(
                                    name="ratio",
                                    value=ratio,
                                    cut_points=(spec.amount_ratio,),
                                    rule="a decline below the cut point",
                                ),
                            ),
                            reason="recent spend per purchase day below the customer's own",
                        ),
                    )
                )
    return tuple(out)


# --------------------------------------------------------------------------- complaints


@item_types(complaints=Complaint)
def complaint_signals(
    complaints: Iterable[Complaint],
    *,
    now: dt.datetime,
    tz: str = "UTC",
    warn_within: dt.timedelta = dt.timedelta(hours=24),
) -> tuple[Signal, ...]:
    """Open complaints past or near a deadline, most urgent first (then by complaint id).

    A response is due until the complaint first leaves the received state; a
    resolution while the complaint is open. ``warn_within`` is a non-negative
    :class:`~datetime.timedelta` (zero: overdue deadlines only).
    """
    now = require_aware(now, "now")
    if not isinstance(warn_within, dt.timedelta):
        found = type(warn_within).__name__
        raise refuse(
            "type.invalid", "$.warn_within", f"expected timedelta, got {found}", "warn_within"
        )
    if warn_within < dt.timedelta(0):
        raise refuse("value.negative", "$.warn_within", "must not be negative", "warn_within")
    local = zone(tz)
    out = []
    for complaint in complaints:
        if not complaint.state.is_open:
            continue
        deadlines = []
        if complaint.response_due is not None and complaint.responded_at is None:
            deadlines.append(("response", complaint.response_due))
        if complaint.resolution_due is not None:
            deadlines.append(("resolution", complaint.resolution_due))
        for what, due in deadlines:
            if now > due:
                kind, why = SignalKind.COMPLAINT_OVERDUE, f"{what} was due {due.isoformat()}"
            elif due - now <= warn_within:
                kind, why = SignalKind.COMPLAINT_DUE_SOON, f"{what} is due {due.isoformat()}"
            else:
                continue
            hours = divide(Decimal(int((due - now).total_seconds())), 3600)
            out.append(
                Signal(
                    customer_id=complaint.customer_id,
                    kind=kind,
                    what=f"{what} to the {complaint.category} complaint",
                    why=f"{why} ({complaint.state.value}, {complaint.severity.value})",
                    by=due.astimezone(local),
                    subject_id=complaint.id,
                    explanation=Explanation(
                        rule="complaint_sla",
                        outcome=kind.value,
                        factors=(
                            Factor(
                                name="hours_left",
                                value=hours.quantize(Decimal("0.01")),
                                cut_points=(
                                    Decimal(0),
                                    divide(Decimal(int(warn_within.total_seconds())), 3600),
                                ),
                                rule="overdue below 0, due soon up to the warning time",
                            ),
                        ),
                        reason=why,
                    ),
                )
            )
    out.sort(key=lambda s: (s.by, s.subject_id or "", s.what))
    return tuple(out)


# --------------------------------------------------------------------------- verification


@item_types(customers=Customer)
def reverification_signals(
    customers: Iterable[Customer],
    *,
    now: dt.datetime,
    tz: str = "UTC",
    policy: ReverificationPolicy | None = None,
    locale: str = "en",
) -> tuple[Signal, ...]:
    """Facts due for re-verification (the verification schedule's), oldest first.

    ``locale`` names the facts in ``what``: ``"en"`` (``"verify basic data"``) or
    ``"zh"``; any other locale gets the English names.
    """
    local = zone(tz)
    due = due_for_reverification(
        customers, now=now, policy=policy or ReverificationPolicy(), locale=locale
    )
    return tuple(
        Signal(
            customer_id=d.item.customer_id,
            kind=SignalKind.REVERIFICATION_DUE,
            what=f"verify {fact_label(d.item.fact, locale)}",
            why=d.reason.message,
            by=(d.item.last_confirmed + dt.timedelta(days=d.max_age_days)).astimezone(local),
            subject_id=d.item.path,
            explanation=Explanation(
                rule="reverification_policy",
                outcome=d.reason.code,
                factors=(
                    Factor(
                        name="age_days",
                        value=Decimal(d.age_days),
                        cut_points=(Decimal(d.max_age_days),),
                        rule="due above the cut point",
                    ),
                ),
                reason=f"{d.item.basis} {d.item.last_confirmed.isoformat()}",
            ),
        )
        for d in due
    )

"""Re-verification schedule: which facts are due to be confirmed again, oldest first.

The brief (section 5) asks that basic data, credit standing and key decision-maker
data be verified periodically. Each kind of fact (:class:`FactKind`) has a maximum
age in a :class:`ReverificationPolicy`. A fact's age runs from its provenance's
``verified_at``, else its ``observed_at``, else (no provenance) the customer's
``created_at``. :func:`due_for_reverification` lists every fact older than its
maximum, oldest first, each with a coded reason: ``verification.overdue`` (it was
verified once, too long ago) or ``verification.never_verified``.

Contact points flagged ``invalid`` are not scheduled: they are kept for history,
not used.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models import Customer, Model, Provenance
from crmcore.models.checks import checks, positive, unique
from crmcore.rules._items import item_types
from crmcore.rules.verification._arguments import require_locale, require_now
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.messages import finding

__all__ = [
    "DueItem",
    "FactKind",
    "MaxAge",
    "ReverificationPolicy",
    "VerificationItem",
    "due_for_reverification",
    "due_items",
    "fact_label",
    "verification_items",
]


class FactKind(enum.StrEnum):
    """The kinds of fact the brief asks to verify periodically."""

    BASIC_DATA = "basic_data"
    CONTACT_POINTS = "contact_points"
    CREDIT_STANDING = "credit_standing"
    KEY_DECISION_MAKERS = "key_decision_makers"


_LABELS = {
    "en": {
        FactKind.BASIC_DATA: "basic data",
        FactKind.CONTACT_POINTS: "contact point",
        FactKind.CREDIT_STANDING: "credit standing",
        FactKind.KEY_DECISION_MAKERS: "key decision maker",
    },
    "zh": {
        FactKind.BASIC_DATA: "基本资料",
        FactKind.CONTACT_POINTS: "联系方式",
        FactKind.CREDIT_STANDING: "信用状况",
        FactKind.KEY_DECISION_MAKERS: "关键决策人资料",
    },
}


def fact_label(fact: FactKind, locale: str = "en") -> str:
    """Return a human name for a kind of fact in ``locale``."""
    return _LABELS.get(locale, _LABELS["en"])[fact]


@attrs.frozen(kw_only=True)
class MaxAge(Model):
    """The maximum age, in days, of one kind of fact before it must be verified again."""

    fact: FactKind
    days: int = attrs.field(metadata=checks(positive))


_DEFAULT_MAX_AGES = (
    MaxAge(fact=FactKind.BASIC_DATA, days=365),
    MaxAge(fact=FactKind.CONTACT_POINTS, days=180),
    MaxAge(fact=FactKind.CREDIT_STANDING, days=180),
    MaxAge(fact=FactKind.KEY_DECISION_MAKERS, days=90),
)


@attrs.frozen(kw_only=True)
class ReverificationPolicy(Spec):
    """Maximum ages per kind of fact; a kind left out is never due.

    Defaults: basic data a year; contact points and credit standing half a year
    (about 10% of people move every year, brief section 6); key decision makers a
    quarter (people change jobs and roles faster than companies change names).
    """

    TAG = "reverification_policy"
    kind: str = "reverification_policy"
    max_ages: tuple[MaxAge, ...] = attrs.field(
        default=_DEFAULT_MAX_AGES, metadata=checks(unique(lambda m: m.fact))
    )

    def max_age_days(self, fact: FactKind) -> int | None:
        """Return the maximum age of ``fact`` in days, or ``None`` when it is not scheduled."""
        for entry in self.max_ages:
            if entry.fact is fact:
                return entry.days
        return None


_DEFAULT_POLICY = ReverificationPolicy()


@attrs.frozen(kw_only=True)
class VerificationItem:
    """One fact of a customer that can go stale.

    Attributes:
        customer_id: The customer.
        fact: Its kind.
        path: Where it is (``$.phones[0]``, ``$.organisation.credit_standing``).
        last_confirmed: When it was last verified, else observed, else recorded.
        basis: ``"verified"``, ``"observed"`` or ``"created"``: what ``last_confirmed`` is.
    """

    customer_id: str
    fact: FactKind
    path: str
    last_confirmed: dt.datetime
    basis: str

    def age_days(self, now: dt.datetime) -> int:
        """Whole days from ``last_confirmed`` to ``now``."""
        return (now - self.last_confirmed).days


@attrs.frozen(kw_only=True)
class DueItem:
    """A fact due for re-verification, and why.

    Attributes:
        item: The fact.
        age_days: Its age in whole days at ``now``.
        max_age_days: The policy's maximum for its kind.
        reason: A coded finding (``verification.overdue`` or
            ``verification.never_verified``) at the fact's path.
    """

    item: VerificationItem
    age_days: int
    max_age_days: int
    reason: Problem

    @property
    def overdue_days(self) -> int:
        """Days past the maximum age."""
        return self.age_days - self.max_age_days


def _item(
    customer: Customer, fact: FactKind, path: str, provenance: Provenance | None
) -> VerificationItem:
    if provenance is None:
        when, basis = customer.created_at, "created"
    elif provenance.verified_at is not None:
        when, basis = provenance.verified_at, "verified"
    else:
        when, basis = provenance.observed_at, "observed"
    return VerificationItem(
        customer_id=customer.id, fact=fact, path=path, last_confirmed=when, basis=basis
    )


def verification_items(customer: Customer) -> tuple[VerificationItem, ...]:
    """Every fact of ``customer`` that the schedule tracks, in document order."""
    items = [_item(customer, FactKind.BASIC_DATA, "$", customer.provenance)]
    for field in ("phones", "emails", "addresses", "social_handles"):
        for i, point in enumerate(getattr(customer, field)):
            if not point.invalid:
                items.append(
                    _item(customer, FactKind.CONTACT_POINTS, f"$.{field}[{i}]", point.provenance)
                )
    org = customer.organisation
    if org is not None:
        items.append(
            _item(
                customer,
                FactKind.CREDIT_STANDING,
                "$.organisation.credit_standing",
                org.credit_provenance,
            )
        )
        for i, person in enumerate(org.contact_persons):
            if person.key_person or person.role.value == "decision_maker":
                items.append(
                    _item(
                        customer,
                        FactKind.KEY_DECISION_MAKERS,
                        f"$.organisation.contact_persons[{i}]",
                        person.provenance,
                    )
                )
    return tuple(items)


def due_items(
    customer: Customer,
    *,
    now: dt.datetime,
    policy: ReverificationPolicy,
    locale: str = "en",
) -> tuple[DueItem, ...]:
    """Return the facts of one customer due at ``now``, in document order."""
    now = require_now(now)
    require_locale(locale)
    due: list[DueItem] = []
    for item in verification_items(customer):
        max_days = policy.max_age_days(item.fact)
        if max_days is None or now - item.last_confirmed <= dt.timedelta(days=max_days):
            continue
        age = item.age_days(now)
        code = "verification.overdue" if item.basis == "verified" else "verification.never_verified"
        due.append(
            DueItem(
                item=item,
                age_days=age,
                max_age_days=max_days,
                reason=finding(
                    code,
                    item.path,
                    locale=locale,
                    fact=fact_label(item.fact, locale),
                    age_days=age,
                    max_age_days=max_days,
                ),
            )
        )
    return tuple(due)


@item_types(customers=Customer)
def due_for_reverification(
    customers: Iterable[Customer],
    *,
    now: dt.datetime,
    policy: ReverificationPolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> tuple[DueItem, ...]:
    """Return every fact due for re-verification at ``now``, oldest first.

    Ties are broken by customer id and path, so the order is fully determined.
    """
    now = require_now(now)
    due = [
        d
        for customer in customers
        for d in due_items(customer, now=now, policy=policy, locale=locale)
    ]
    due.sort(key=lambda d: (d.item.last_confirmed, d.item.customer_id, d.item.path))
    return tuple(due)

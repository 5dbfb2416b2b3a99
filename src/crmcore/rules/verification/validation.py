"""Business validation of a customer, reporting every finding at once.

The models already refuse what can never be right (wrong types, an organisation
without a legal name, a person customer without a person profile). These rules
check what a *business* decides, configured by a :class:`ValidationSpec`:

* required fields per customer kind (:class:`RequiredField`);
* plausible dates: no birthday, founding date or acquisition date after ``now``;
  an age within bounds;
* allowed values for a field (:class:`AllowedValues`);
* consistency: if a customer has contact points of a kind, exactly one of them is
  marked primary, and the primary one is not flagged invalid; no provenance is
  dated after ``now``.

``now`` is an argument: the rules never read the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models import ContactPoint, Customer, CustomerKind, Model
from crmcore.models.checks import checks, non_blank
from crmcore.rules.verification._arguments import (
    local_date,
    require_locale,
    require_now,
    require_time_zone,
)
from crmcore.rules.verification._paths import as_text, is_present, provenances, resolve, spec_path
from crmcore.rules.verification._spec import Spec, severity_problems
from crmcore.rules.verification._zh import PROVENANCE_FIELDS, word
from crmcore.rules.verification.messages import check_severity, finding

__all__ = ["AllowedValues", "RequiredField", "ValidationSpec", "validate"]


@attrs.frozen(kw_only=True)
class RequiredField(Model):
    """A field a business requires, optionally only for one kind of customer.

    Attributes:
        path: A field path such as ``"person.birthday"``, ``"phones"`` or
            ``"facts:preference"`` (see docs/verification.md).
        customer_kind: Only for this kind of customer; ``None`` for both.
        severity: Severity of ``required.missing``.
    """

    path: str = attrs.field(metadata=checks(non_blank, spec_path))
    customer_kind: CustomerKind | None = None
    severity: str = "error"

    def _invariants(self) -> Iterable[Problem]:
        return severity_problems(self, "severity")


@attrs.frozen(kw_only=True)
class AllowedValues(Model):
    """The values a field may take (every item, for a tuple field such as ``tags``).

    Attributes:
        path: A field path such as ``"person.education"`` or ``"grade"``.
        values: The allowed values (enum values for enum fields).
        severity: Severity of ``value.disallowed``.
    """

    path: str = attrs.field(metadata=checks(non_blank, spec_path))
    values: tuple[str, ...]
    severity: str = "error"

    def _invariants(self) -> Iterable[Problem]:
        return severity_problems(self, "severity")


@attrs.frozen(kw_only=True)
class ValidationSpec(Spec):
    """Which business rules :func:`validate` applies.

    The defaults are safe for every write path: they refuse only the impossible
    (a date in the future, two primary phones) and warn about the rest.

    Attributes:
        required: Required fields.
        allowed: Allowed values.
        no_future_dates: Report birthdays, founding and acquisition dates after ``now``.
        min_age: Youngest plausible age of a person customer, or ``None``.
        max_age: Oldest plausible age, or ``None``.
        age_severity: Severity of ``age.too_young`` / ``age.too_old``.
        primary_missing_severity: Severity of ``contact.primary_missing``, or ``"off"``.
        multiple_primary_severity: Severity of ``contact.primary_multiple``, or ``"off"``.
        primary_invalid_severity: Severity of ``contact.primary_invalid``, or ``"off"``.
        future_provenance_severity: Severity of ``provenance.in_future``, or ``"off"``.
    """

    TAG = "validation_spec"
    kind: str = "validation_spec"
    required: tuple[RequiredField, ...] = ()
    allowed: tuple[AllowedValues, ...] = ()
    no_future_dates: bool = True
    min_age: int | None = None
    max_age: int | None = 130
    age_severity: str = "warning"
    primary_missing_severity: str = "warning"
    multiple_primary_severity: str = "error"
    primary_invalid_severity: str = "warning"
    future_provenance_severity: str = "warning"

    def _spec_invariants(self) -> Iterable[Problem]:
        yield from severity_problems(self, "age_severity")
        for name in (
            "primary_missing_severity",
            "multiple_primary_severity",
            "primary_invalid_severity",
            "future_provenance_severity",
        ):
            if getattr(self, name) != "off":
                yield from severity_problems(self, name)
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            yield Problem(
                code="spec.range_invalid", path="$.min_age", message="must not exceed max_age"
            )


_DEFAULT_SPEC = ValidationSpec()

_KIND_WORDS = {
    "en": {"person": "person", "organisation": "organisation"},
    "zh": {"person": "个人", "organisation": "组织"},
}
_POINT_WORDS = {
    "en": {
        "phones": ("phones", "phone"),
        "emails": ("email addresses", "email address"),
        "addresses": ("addresses", "address"),
        "social_handles": ("social handles", "social handle"),
    },
    "zh": {
        "phones": ("电话", "电话"),
        "emails": ("电子邮件地址", "电子邮件地址"),
        "addresses": ("地址", "地址"),
        "social_handles": ("社交账号", "社交账号"),
    },
}


def _age(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate(
    customer: Customer,
    *,
    spec: ValidationSpec = _DEFAULT_SPEC,
    now: dt.datetime,
    locale: str = "en",
    time_zone: str | None = None,
) -> tuple[Problem, ...]:
    """Every finding of ``spec``'s rules on ``customer`` at time ``now``, in a stable order.

    Dates (birthdays, founding and acquisition dates, ages) are judged against today
    in ``time_zone`` (an IANA name such as ``"Asia/Shanghai"``); without one, today
    is the calendar date of ``now`` as given (the store's clock gives UTC).

    >>> import datetime as dt
    >>> from crmcore.models import PersonProfile, PersonName
    >>> c = Customer.person_named(family="张", given="伟")
    >>> c = attrs.evolve(c, person=PersonProfile(name=c.person.name, birthday=dt.date(2999, 1, 1)))
    >>> [p.code for p in validate(c, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))]
    ['date.in_future']
    """
    zone = require_time_zone(time_zone)
    return _findings(customer, spec, require_now(now), require_locale(locale), zone)


def _findings(
    customer: Customer,
    spec: ValidationSpec,
    now: dt.datetime,
    locale: str,
    zone: dt.tzinfo | None = None,
) -> tuple[Problem, ...]:
    """:func:`validate` for callers that have checked ``now``, ``locale`` and the zone."""
    found: list[Problem] = []
    if spec.required:
        found.extend(_required(customer, spec, locale))
    found.extend(_dates(customer, spec, now, locale, zone))
    if spec.allowed:
        found.extend(_allowed(customer, spec, locale))
    found.extend(_primaries(customer, spec, locale))
    found.extend(_provenance(customer, spec, now, locale))
    return tuple(found)


def _required(customer: Customer, spec: ValidationSpec, locale: str) -> Iterable[Problem]:
    if not spec.required:
        return
    kind_word = _KIND_WORDS.get(locale, _KIND_WORDS["en"])[customer.kind.value]
    for rule in spec.required:
        if rule.customer_kind is not None and rule.customer_kind is not customer.kind:
            continue
        if not any(is_present(value) for _, value in resolve(customer, rule.path)):
            yield finding(
                "required.missing",
                "$." + rule.path.replace(":", "."),
                locale=locale,
                severity=check_severity(rule.severity),
                customer_kind=kind_word,
            )


def _dates(
    customer: Customer,
    spec: ValidationSpec,
    now: dt.datetime,
    locale: str,
    zone: dt.tzinfo | None,
) -> Iterable[Problem]:
    person = customer.person
    org = customer.organisation
    if (
        customer.acquired_on is None
        and (person is None or (person.birthday is None and not person.family_members))
        and (org is None or (org.founded_on is None and not org.contact_persons))
    ):
        return  # no date to judge
    today = local_date(now, zone)
    dated: list[tuple[str, dt.date | None]] = [("$.acquired_on", customer.acquired_on)]
    if person is not None:
        dated.append(("$.person.birthday", person.birthday))
        dated.extend(
            (f"$.person.family_members[{i}].birthday", m.birthday)
            for i, m in enumerate(person.family_members)
        )
    if org is not None:
        dated.append(("$.organisation.founded_on", org.founded_on))
        dated.extend(
            (f"$.organisation.contact_persons[{i}].birthday", p.birthday)
            for i, p in enumerate(org.contact_persons)
        )
    future = set()
    if spec.no_future_dates:
        for path, value in dated:
            if value is not None and value > today:
                future.add(path)
                yield finding(
                    "date.in_future",
                    path,
                    locale=locale,
                    value=value.isoformat(),
                    today=today.isoformat(),
                )
    if person is None or person.birthday is None or "$.person.birthday" in future:
        return
    age = _age(person.birthday, today)
    severity = check_severity(spec.age_severity)
    if spec.min_age is not None and age < spec.min_age:
        yield finding(
            "age.too_young",
            "$.person.birthday",
            locale=locale,
            severity=severity,
            age=age,
            minimum=spec.min_age,
        )
    if spec.max_age is not None and age > spec.max_age:
        yield finding(
            "age.too_old",
            "$.person.birthday",
            locale=locale,
            severity=severity,
            age=age,
            maximum=spec.max_age,
        )


def _allowed(customer: Customer, spec: ValidationSpec, locale: str) -> Iterable[Problem]:
    for rule in spec.allowed:
        allowed = set(rule.values)
        for path, value in resolve(customer, rule.path):
            items = (
                [(f"{path}[{i}]", v) for i, v in enumerate(value)]
                if isinstance(value, tuple)
                else [(path, value)]
            )
            for where, item in items:
                text = as_text(item)
                if text not in allowed:
                    yield finding(
                        "value.disallowed",
                        where,
                        locale=locale,
                        severity=check_severity(rule.severity),
                        value=text,
                        allowed=", ".join(rule.values),
                    )


def _primaries(customer: Customer, spec: ValidationSpec, locale: str) -> Iterable[Problem]:
    words: dict[str, tuple[str, str]] | None = None
    for field in ("phones", "emails", "addresses", "social_handles"):
        points: tuple[ContactPoint, ...] = getattr(customer, field)
        if not points or (len(points) == 1 and points[0].primary and not points[0].invalid):
            continue  # the common case: nothing to report
        primary = [i for i, p in enumerate(points) if p.primary]
        if len(primary) == 1 and not points[primary[0]].invalid:
            continue  # the common case: nothing to report
        if words is None:
            words = _POINT_WORDS.get(locale, _POINT_WORDS["en"])
        plural, singular = words[field]
        if not primary and spec.primary_missing_severity != "off":
            yield finding(
                "contact.primary_missing",
                f"$.{field}",
                locale=locale,
                severity=check_severity(spec.primary_missing_severity),
                count=len(points),
                what=plural,
            )
        if len(primary) > 1 and spec.multiple_primary_severity != "off":
            yield finding(
                "contact.primary_multiple",
                f"$.{field}",
                locale=locale,
                severity=check_severity(spec.multiple_primary_severity),
                count=len(primary),
                what=plural,
            )
        if spec.primary_invalid_severity != "off":
            for i in primary:
                if points[i].invalid:
                    yield finding(
                        "contact.primary_invalid",
                        f"$.{field}[{i}].invalid",
                        locale=locale,
                        severity=check_severity(spec.primary_invalid_severity),
                        what=singular,
                    )


def _provenance(
    customer: Customer, spec: ValidationSpec, now: dt.datetime, locale: str
) -> Iterable[Problem]:
    if spec.future_provenance_severity == "off":
        return
    severity = spec.future_provenance_severity
    for path, prov in provenances(customer):
        for name in ("observed_at", "verified_at"):
            value: dt.datetime | None = getattr(prov, name)
            if value is not None and value > now:
                yield finding(
                    "provenance.in_future",
                    f"{path}.{name}",
                    locale=locale,
                    severity=check_severity(severity),
                    field=word(PROVENANCE_FIELDS, name, locale),
                    value=value.isoformat(),
                    now=now.isoformat(),
                )

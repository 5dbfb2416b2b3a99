"""The one normalisation pipeline every write path runs.

:class:`NormalisationPipeline` turns a customer into its stored form: phones in
E.164 (phonenumbers), emails in email-validator's normalised form, names and
addresses tidied, then runs :func:`~crmcore.rules.verification.validation.validate`.
Constructors from raw input, imports, the storage layer and the CLI all call the
same pipeline, so the same input always becomes the same stored value.

Two ways to call it:

* ``pipeline(customer)`` returns the normalised customer, or raises
  :class:`crmcore.errors.ValidationError` carrying every *error* finding (nothing
  may be written then); warnings and infos are not raised;
* ``pipeline.check(customer)`` never raises for findings: it returns a
  :class:`NormalisationResult` with the normalised customer and every finding.

Regions for phone numbers written without a country code come from, in order: the
phone's own ``region``; the country of the customer's primary address (when
:attr:`NormalisationPipeline.infer_region_from_address` is on); then
:attr:`NormalisationPipeline.default_region`. A valid number is stored in E.164,
which needs no region; a number kept as entered gets the region it was read with
written into the phone, so normalising again reads it the same way (normalisation
is idempotent).

Time: the plausibility rules need a "now". The pipeline never reads the clock;
pass ``now=``, or it uses the customer's own ``updated_at`` (the moment the record
claims to describe), which keeps the pipeline a pure function of the customer.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping
from typing import TypeVar

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models import (
    ContactPerson,
    Customer,
    Email,
    FamilyMember,
    Model,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    replace,
)
from crmcore.models.checks import checks, non_blank
from crmcore.rules.verification._arguments import (
    require_locale,
    require_now,
    require_time_zone,
    time_zone_problem,
)
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.addresses import AddressPolicy, country_code, normalise_address
from crmcore.rules.verification.cells import blank_to_none
from crmcore.rules.verification.emails import EmailPolicy, normalise_email_point
from crmcore.rules.verification.messages import LOCALES
from crmcore.rules.verification.names import NamePolicy, normalise_name, normalise_text
from crmcore.rules.verification.phones import (
    PhonePolicy,
    normalise_phone_point,
    region_problem,
)
from crmcore.rules.verification.validation import ValidationSpec, _findings

__all__ = ["NormalisationPipeline", "NormalisationResult"]


@attrs.frozen(kw_only=True)
class NormalisationResult:
    """A normalised customer and every finding made on the way.

    Attributes:
        customer: The normalised customer. Values that could not be normalised are
            kept as entered (and contact points flagged ``invalid``), never dropped.
        findings: Every finding, errors first in input order, with ``$.paths``.
    """

    customer: Customer
    findings: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The findings of severity ``error``: the reasons a write must be refused."""
        return tuple(p for p in self.findings if p.severity == "error")

    @property
    def ok(self) -> bool:
        """True when there is no error finding."""
        return not any(p.severity == "error" for p in self.findings)

    def raise_for_errors(self) -> Customer:
        """Return the customer, or raise :class:`ValidationError` with every error finding."""
        errors = self.errors
        if errors:
            raise ValidationError(errors, subject="Customer")
        return self.customer


def _zone_ok(value: object) -> Problem | None:
    problem = time_zone_problem(value)
    return None if problem is None else attrs.evolve(problem, path="$")


def _locale_ok(value: object) -> Problem | None:
    if value not in LOCALES:
        return Problem(code="value.not_allowed", message=f"must be one of {', '.join(LOCALES)}")
    return None


@attrs.frozen(kw_only=True)
class NormalisationPipeline(Spec):
    """The normalisation pipeline, configured; a frozen, JSON-serialisable spec.

    Attributes:
        default_region: Region (ISO 3166 alpha-2) for numbers written without a
            country code when neither the phone nor the customer's address gives one.
        infer_region_from_address: Use the primary address's country as the region.
        check_deliverability: Ask DNS whether email domains accept mail (I/O; off).
        locale: Locale of the findings' messages (``"en"`` or ``"zh"``).
        phones: :class:`PhonePolicy`.
        emails: :class:`EmailPolicy`.
        names: :class:`NamePolicy`.
        addresses: :class:`AddressPolicy`.
        validation: The :class:`ValidationSpec` run after normalising, or ``None``.
        time_zone: The IANA time zone (``"Asia/Shanghai"``) in which the date rules
            judge "today" (a birthday or acquisition date in the future, ages).
            ``None`` (the default, as before) judges by the calendar date of
            ``now`` as given: the store's clock is UTC, so the UTC date.

    >>> from crmcore.models import Phone
    >>> pipeline = NormalisationPipeline(default_region="CN")
    >>> phone = Phone(number="１３８００１３８０００")
    >>> c = Customer.person_named(family="张", given="伟", phones=(phone,))
    >>> pipeline(c).phones[0].number
    '+8613800138000'
    """

    TAG = "normalisation_pipeline"
    kind: str = "normalisation_pipeline"
    default_region: str | None = attrs.field(default=None, metadata=checks(region_problem))
    infer_region_from_address: bool = True
    check_deliverability: bool = False
    locale: str = attrs.field(default="en", metadata=checks(non_blank, _locale_ok))
    phones: PhonePolicy = attrs.field(factory=PhonePolicy)
    emails: EmailPolicy = attrs.field(factory=EmailPolicy)
    names: NamePolicy = attrs.field(factory=NamePolicy)
    addresses: AddressPolicy = attrs.field(factory=AddressPolicy)
    validation: ValidationSpec | None = attrs.field(factory=ValidationSpec)
    time_zone: str | None = attrs.field(default=None, metadata=checks(_zone_ok))

    def __call__(
        self, customer: Customer, *, now: dt.datetime | None = None, locale: str | None = None
    ) -> Customer:
        """Return the normalised customer; raise :class:`ValidationError` on error findings."""
        return self.check(customer, now=now, locale=locale).raise_for_errors()

    def check(
        self, customer: Customer, *, now: dt.datetime | None = None, locale: str | None = None
    ) -> NormalisationResult:
        """Normalise ``customer`` and report every finding; never raises for findings.

        Raises :class:`ValidationError` only for bad arguments: a naive ``now`` or an
        unsupported ``locale``.
        """
        return self.check_many((customer,), now=now, locale=locale)[0]

    def check_many(
        self,
        customers: Iterable[Customer],
        *,
        now: dt.datetime | None = None,
        locale: str | None = None,
    ) -> list[NormalisationResult]:
        """:meth:`check` every customer; the results, in order, equal ``check``'s one by one.

        Faster for a batch: the work is done a stage at a time across the batch
        (every address, then every phone, then every email, then names and
        validation), so each library's tables stay in the CPU caches from one
        customer to the next instead of being evicted by the other stages. Imports
        use it; hand it batches of a few hundred to a few thousand customers.
        """
        if now is not None:
            now = require_now(now)
        loc = require_locale(locale) if locale is not None else self.locale
        batch = list(customers)
        stages = [_Stage(customer) for customer in batch]
        for stage in stages:
            customer = stage.customer
            addresses = self._addresses(customer.addresses, "$.addresses", loc, stage.findings)
            if addresses is not customer.addresses:
                stage.changes["addresses"] = addresses
            stage.region = self._region_for(addresses)
        for stage in stages:
            customer = stage.customer
            phones = self._phones(customer.phones, stage.region, "$.phones", loc, stage.findings)
            if phones is not customer.phones:
                stage.changes["phones"] = phones
        for stage in stages:
            customer = stage.customer
            emails = self._emails(customer.emails, "$.emails", loc, stage.findings)
            if emails is not customer.emails:
                stage.changes["emails"] = emails
        # the zone was checked on construction; read once for the batch
        zone = require_time_zone(self.time_zone) if stages and self.validation is not None else None
        return [self._finish(stage, now, loc, zone) for stage in stages]

    def _finish(
        self, stage: _Stage, now: dt.datetime | None, locale: str, zone: dt.tzinfo | None
    ) -> NormalisationResult:
        """The stages after phones and emails: names, profiles, the rebuild, validation."""
        customer, findings, changes = stage.customer, stage.findings, stage.changes
        if customer.person is not None:
            person = self._person(customer, locale, findings)
            if person is not customer.person:
                changes["person"] = person
        if customer.organisation is not None:
            organisation = self._organisation(customer, stage.region, locale, findings)
            if organisation is not customer.organisation:
                changes["organisation"] = organisation
        if customer.owner is not None or customer.grade is not None or customer.notes is not None:
            _blanks_to_none(customer, ("owner", "grade", "notes"), changes)
        display = self._display_name(customer, changes)
        if display != customer.display_name:
            changes["display_name"] = display
        normalised = _rebuild(customer, "$", findings, changes)
        if self.validation is not None:
            # now and locale were checked by check_many(); updated_at by the model
            when = customer.updated_at if now is None else now
            findings.extend(_findings(normalised, self.validation, when, locale, zone))
        if not findings:
            return NormalisationResult(customer=normalised)
        ordered = sorted(findings, key=lambda p: p.severity != "error")
        return NormalisationResult(customer=normalised, findings=tuple(ordered))

    # ------------------------------------------------------------------ parts

    def _region_for(self, addresses: tuple[PostalAddress, ...]) -> str | None:
        if self.infer_region_from_address and addresses:
            primary = addresses[0]
            for address in addresses:
                if address.primary:
                    primary = address
                    break
            code = country_code(primary.country)
            if code is not None:
                return code
        return self.default_region

    def _phones(
        self,
        phones: tuple[Phone, ...],
        region: str | None,
        base: str,
        locale: str,
        findings: list[Problem],
    ) -> tuple[Phone, ...]:
        if not phones:
            return phones
        out: list[Phone] = []
        changed = False
        for i, phone in enumerate(phones):
            try:
                new, found = normalise_phone_point(
                    phone, region=region, policy=self.phones, locale=locale
                )
            except ValidationError as error:
                new, found = phone, error.problems
            if new.label is not None:
                new = _without_blank_label(new)
            if found:
                findings.extend(p.under(f"{base}[{i}]") for p in found)
            changed = changed or new is not phone
            out.append(new)
        return tuple(out) if changed else phones

    def _emails(
        self, emails: tuple[Email, ...], base: str, locale: str, findings: list[Problem]
    ) -> tuple[Email, ...]:
        if not emails:
            return emails
        out: list[Email] = []
        changed = False
        for i, email in enumerate(emails):
            try:
                new, found = normalise_email_point(
                    email,
                    check_deliverability=self.check_deliverability,
                    policy=self.emails,
                    locale=locale,
                )
            except ValidationError as error:
                new, found = email, error.problems
            if new.label is not None:
                new = _without_blank_label(new)
            if found:
                findings.extend(p.under(f"{base}[{i}]") for p in found)
            changed = changed or new is not email
            out.append(new)
        return tuple(out) if changed else emails

    def _addresses(
        self,
        addresses: tuple[PostalAddress, ...],
        base: str,
        locale: str,
        findings: list[Problem],
    ) -> tuple[PostalAddress, ...]:
        if not addresses:
            return addresses
        out: list[PostalAddress] = []
        changed = False
        for i, address in enumerate(addresses):
            try:
                new, found = normalise_address(address, policy=self.addresses, locale=locale)
            except ValidationError as error:
                new, found = address, error.problems
            if new.label is not None:
                new = _without_blank_label(new)
            if found:
                findings.extend(p.under(f"{base}[{i}]") for p in found)
            changed = changed or new is not address
            out.append(new)
        return tuple(out) if changed else addresses

    def _name(
        self, name: PersonName, base: str, locale: str, findings: list[Problem]
    ) -> PersonName:
        try:
            new, found = normalise_name(name, policy=self.names, locale=locale)
        except ValidationError as error:
            new, found = name, error.problems
        if found:
            findings.extend(p.under(base) for p in found)
        return new

    def _person(self, customer: Customer, locale: str, findings: list[Problem]) -> PersonProfile:
        person = customer.person
        assert person is not None
        changes: dict[str, object] = {}
        if person.name is not None:
            name = self._name(person.name, "$.person.name", locale, findings)
            if name is not person.name:
                changes["name"] = name
        if person.other_name is not None:
            other = self._name(person.other_name, "$.person.other_name", locale, findings)
            if other is not person.other_name:
                changes["other_name"] = other
        texts = _person_texts(person)
        if texts != _NO_TEXTS:  # most profiles hold none of these
            for field, value in zip(_PERSON_TEXTS, texts, strict=True):
                if value is not None:
                    text = normalise_text(value)
                    if text != value or not text:
                        changes[field] = text or None  # a blank cell is an absent value
        if person.industry is not None or person.income_band is not None:
            _blanks_to_none(person, ("industry", "income_band"), changes)
        if person.family_members:
            members = self._family(person.family_members, locale, findings)
            if members is not person.family_members:
                changes["family_members"] = members
        return _rebuild(person, "$.person", findings, changes)

    def _family(
        self, members: tuple[FamilyMember, ...], locale: str, findings: list[Problem]
    ) -> tuple[FamilyMember, ...]:
        out: list[FamilyMember] = []
        changed = False
        for i, member in enumerate(members):
            new = member
            if member.name is not None:
                name = self._name(
                    member.name, f"$.person.family_members[{i}].name", locale, findings
                )
                if name is not member.name:
                    new = _rebuild(
                        member, f"$.person.family_members[{i}]", findings, {"name": name}
                    )
            changed = changed or new is not member
            out.append(new)
        return tuple(out) if changed else members

    def _organisation(
        self, customer: Customer, region: str | None, locale: str, findings: list[Problem]
    ) -> OrganisationProfile:
        org = customer.organisation
        assert org is not None
        changes: dict[str, object] = {}
        legal_name = normalise_text(org.legal_name)
        if legal_name != org.legal_name:
            changes["legal_name"] = legal_name
        _blanks_to_none(org, ("registration_number", "business_scope", "industry"), changes)
        people: list[ContactPerson] = []
        changed = False
        for i, person in enumerate(org.contact_persons):
            new = self._contact_person(
                person, region, f"$.organisation.contact_persons[{i}]", locale, findings
            )
            changed = changed or new is not person
            people.append(new)
        if changed:
            changes["contact_persons"] = tuple(people)
        return _rebuild(org, "$.organisation", findings, changes)

    def _contact_person(
        self,
        person: ContactPerson,
        region: str | None,
        base: str,
        locale: str,
        findings: list[Problem],
    ) -> ContactPerson:
        changes: dict[str, object] = {}
        _blanks_to_none(person, ("title", "department", "notes"), changes)
        name = self._name(person.name, f"{base}.name", locale, findings)
        if name is not person.name:
            changes["name"] = name
        phones = self._phones(person.phones, region, f"{base}.phones", locale, findings)
        if phones is not person.phones:
            changes["phones"] = phones
        emails = self._emails(person.emails, f"{base}.emails", locale, findings)
        if emails is not person.emails:
            changes["emails"] = emails
        return _rebuild(person, base, findings, changes)

    @staticmethod
    def _display_name(customer: Customer, changes: dict[str, object]) -> str:
        display = normalise_text(customer.display_name) or customer.display_name
        person = customer.person
        new_person = changes.get("person")
        if person is not None and new_person is not None and new_person is not person:
            old_name = person.name
            new_name = getattr(new_person, "name", old_name)
            if (
                old_name is not None
                and new_name is not None
                and new_name is not old_name
                and display
                in (
                    normalise_text(old_name.display),
                    normalise_text(old_name.given_first),
                )
            ):
                return str(new_name.display)
        organisation = customer.organisation
        new_org = changes.get("organisation")
        if (
            organisation is not None
            and new_org is not None
            and display == normalise_text(organisation.legal_name)
        ):
            return str(getattr(new_org, "legal_name", display))
        return display


class _Stage:
    """One customer's work in progress through :meth:`NormalisationPipeline.check_many`."""

    __slots__ = ("changes", "customer", "findings", "region")

    def __init__(self, customer: Customer) -> None:
        self.customer = customer
        self.findings: list[Problem] = []
        self.changes: dict[str, object] = {}
        self.region: str | None = None


_M = TypeVar("_M", bound=Model)

# the free-text fields of a person profile that are tidied like names
_PERSON_TEXTS = ("nickname", "birthplace", "education", "occupation", "job_title")
_person_texts = operator.attrgetter(*_PERSON_TEXTS)
_NO_TEXTS = (None,) * len(_PERSON_TEXTS)


_P = TypeVar("_P", Phone, Email, PostalAddress)


def _without_blank_label(point: _P) -> _P:
    """``point`` with a blank label (an empty spreadsheet cell) made absent."""
    if point.label is not None and blank_to_none(point.label) is None:
        return replace(point, label=None)
    return point


def _blanks_to_none(model: Model, fields: tuple[str, ...], changes: dict[str, object]) -> None:
    """Record in ``changes`` that each blank optional text field of ``model`` is absent."""
    for field in fields:
        value = getattr(model, field)
        if value is not None and blank_to_none(value) is None:
            changes[field] = None


def _rebuild(original: _M, base: str, findings: list[Problem], changes: Mapping[str, object]) -> _M:
    """Apply ``changes``; if the model refuses the normalised values, keep ``original``.

    A normalised value can break a model check the entered one passed (NFKC can
    lengthen text past a maximum length, for example). The original is then kept
    unchanged and the model's problems become error findings, so ``check()`` still
    reports instead of raising, and nothing is lost.
    """
    if not changes:
        return original
    try:
        return replace(original, **changes)
    except ValidationError as error:
        findings.extend(p.under(base) for p in error.problems)
        return original

"""The customer: a person or an organisation, with profile, contact points and provenance."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.calendars import Calendar, calendar_problems
from crmcore.models.checks import checks, max_length, non_blank, non_negative, unique
from crmcore.models.contact import (
    ContactPerson,
    ContactPoint,
    Email,
    Phone,
    PostalAddress,
    SocialHandle,
)
from crmcore.models.provenance import Provenance, SourceChannel
from crmcore.models.values import Identifier, Money, PersonName

__all__ = [
    "CreditStanding",
    "Customer",
    "CustomerKind",
    "FactCategory",
    "FamilyMember",
    "Gender",
    "KeyDate",
    "LifecycleStage",
    "OrganisationProfile",
    "OrganisationSize",
    "PersonProfile",
    "ProfileFact",
    "utc_now",
]


def utc_now() -> dt.datetime:
    """The current time in UTC; the default for new records' timestamps."""
    return dt.datetime.now(dt.UTC)


class CustomerKind(enum.StrEnum):
    """Whether a customer is a person or an organisation."""

    PERSON = "person"
    ORGANISATION = "organisation"


class LifecycleStage(enum.StrEnum):
    """The customer lifecycle ladder, and the stages off it (domain brief, section 7)."""

    SUSPECT = "suspect"
    PROSPECT = "prospect"
    FIRST_TIME = "first_time"
    REPEAT = "repeat"
    CLIENT = "client"
    MEMBER = "member"
    ADVOCATE = "advocate"
    PARTNER = "partner"
    DISQUALIFIED = "disqualified"
    LAPSED = "lapsed"
    LOST = "lost"

    @property
    def on_ladder(self) -> bool:
        """False for disqualified, lapsed (stopped buying) and lost (left) customers."""
        return self not in (LifecycleStage.DISQUALIFIED, LifecycleStage.LAPSED, LifecycleStage.LOST)


class Gender(enum.StrEnum):
    """A person's gender as they state it."""

    FEMALE = "female"
    MALE = "male"
    DIVERSE = "diverse"
    UNDISCLOSED = "undisclosed"


class FactCategory(enum.StrEnum):
    """The kind of an open-ended profile fact."""

    PREFERENCE = "preference"
    HOBBY = "hobby"
    TABOO = "taboo"
    HABIT = "habit"
    CONSUMPTION = "consumption"
    ATTITUDE = "attitude"
    TRANSPORT = "transport"
    RELIGION = "religion"
    IDEAL = "ideal"
    FAVOURITE = "favourite"
    PRICE_SENSITIVITY = "price_sensitivity"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class ProfileFact(Model):
    """An open-ended fact about a customer, each with a category and its provenance.

    >>> ProfileFact(category=FactCategory.PREFERENCE, key="drink", value="carrot juice").key
    'drink'
    """

    category: FactCategory
    key: str = attrs.field(metadata=checks(non_blank, max_length(128)))
    value: str = attrs.field(metadata=checks(non_blank))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    provenance: Provenance | None = None


@attrs.frozen(kw_only=True)
class FamilyMember(Model):
    """A member of a person customer's family (for birthdays and family-status segments)."""

    relation: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    name: PersonName | None = None
    birthday: dt.date | None = None
    birthday_calendar: Calendar = Calendar.GREGORIAN

    def _invariants(self) -> Iterator[Problem]:
        yield from calendar_problems(self.birthday, self.birthday_calendar, "$.birthday")


@attrs.frozen(kw_only=True)
class KeyDate(Model):
    """A date worth remembering every year: a wedding anniversary, a company founding day.

    Attributes:
        date: The Gregorian day it happened.
        recurring: Signalled every year; otherwise only before ``date``.
        calendar: How it recurs: :attr:`Calendar.CHINESE` on the same Chinese lunisolar
            month and day each year (:mod:`crmcore.models.calendars`).
    """

    label: str = attrs.field(metadata=checks(non_blank, max_length(128)))
    date: dt.date
    recurring: bool = True
    calendar: Calendar = Calendar.GREGORIAN

    def _invariants(self) -> Iterator[Problem]:
        yield from calendar_problems(self.date, self.calendar, "$.date")


@attrs.frozen(kw_only=True)
class PersonProfile(Model):
    """The profile of a person customer (the brief's "traditional profile").

    Attributes:
        name: Structured name in its proper order; ``None`` for a person known only
            by an identifier or a contact point (a membership card at the point of
            sale, an anonymous web order): the customer then needs one of those.
        nickname: What the customer likes to be called.
        other_name: The name in another language or script (an English name).
        birthday: Date of birth; a birthday in the future is a verification finding,
            not a construction error, because it is a business rule.
        birthday_calendar: The calendar the birthday is kept by:
            :attr:`Calendar.CHINESE` for a birthday celebrated on its Chinese lunisolar
            month and day (``birthday`` stays the Gregorian day of birth).
        family_members: Spouse, children, parents, with their birthdays.
    """

    name: PersonName | None = None
    nickname: str | None = None
    other_name: PersonName | None = None
    gender: Gender | None = None
    birthday: dt.date | None = None
    birthplace: str | None = None
    education: str | None = None
    occupation: str | None = None
    job_title: str | None = None
    industry: str | None = None
    income_band: str | None = None
    family_members: tuple[FamilyMember, ...] = ()
    birthday_calendar: Calendar = Calendar.GREGORIAN

    def _invariants(self) -> Iterator[Problem]:
        yield from calendar_problems(self.birthday, self.birthday_calendar, "$.birthday")


class OrganisationSize(enum.StrEnum):
    """Size class of an organisation customer."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    ENTERPRISE = "enterprise"


class CreditStanding(enum.StrEnum):
    """Credit standing of an organisation, from best to worst."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    DEFAULTED = "defaulted"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class OrganisationProfile(Model):
    """The profile of an organisation customer.

    Attributes:
        legal_name: Registered name; required.
        registration_number: Business registration number (统一社会信用代码 in China).
        registered_capital: Registered capital as :class:`Money`.
        contact_persons: The people in the customer's decision chain.
        credit_provenance: Where the credit standing came from and when it was verified.
    """

    legal_name: str = attrs.field(metadata=checks(non_blank, max_length(512)))
    registration_number: str | None = None
    registered_capital: Money | None = None
    business_scope: str | None = None
    industry: str | None = None
    size: OrganisationSize | None = None
    employee_count: int | None = attrs.field(default=None, metadata=checks(non_negative))
    credit_standing: CreditStanding = CreditStanding.UNKNOWN
    credit_provenance: Provenance | None = None
    founded_on: dt.date | None = None
    contact_persons: tuple[ContactPerson, ...] = attrs.field(
        default=(), metadata=checks(unique(lambda p: p.id))
    )

    def decision_makers(self) -> tuple[ContactPerson, ...]:
        """Contact persons whose role is decision maker or who are marked as key people."""
        return tuple(
            p for p in self.contact_persons if p.key_person or p.role.value == "decision_maker"
        )


def _sorted_unique(values: Any) -> Any:
    """Tags sorted and unique; anything else is left for the type checks to refuse.

    A string is not a collection of tags (``tags="vip"`` is refused, never split
    into ``("i", "p", "v")``), nor are items that cannot be compared.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return values
    items = tuple(values)
    try:
        return tuple(sorted(set(items)))
    except TypeError:  # unhashable or mixed items: the type check names the bad one
        return items


@attrs.frozen(kw_only=True)
class Customer(Model):
    """A customer: a person or an organisation.

    Exactly one of ``person`` and ``organisation`` is set, matching ``kind``.
    ``version`` is managed by storage (0 for a record never saved); timestamps are
    timezone-aware. Tags are kept sorted and unique, so equal customers compare equal.

    >>> c = Customer.person_named(family="张", given="伟")
    >>> c.kind, c.display_name
    (<CustomerKind.PERSON: 'person'>, '张伟')
    """

    kind: CustomerKind
    display_name: str = attrs.field(metadata=checks(non_blank, max_length(512)))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)
    updated_at: dt.datetime = attrs.field(factory=utc_now)
    acquired_on: dt.date | None = None
    acquisition_channel: SourceChannel | None = None
    owner: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=_sorted_unique)
    lifecycle_stage: LifecycleStage = LifecycleStage.PROSPECT
    grade: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    person: PersonProfile | None = None
    organisation: OrganisationProfile | None = None
    phones: tuple[Phone, ...] = attrs.field(default=(), metadata=checks(unique(lambda p: p.id)))
    emails: tuple[Email, ...] = attrs.field(default=(), metadata=checks(unique(lambda e: e.id)))
    addresses: tuple[PostalAddress, ...] = attrs.field(
        default=(), metadata=checks(unique(lambda a: a.id))
    )
    social_handles: tuple[SocialHandle, ...] = attrs.field(
        default=(), metadata=checks(unique(lambda s: s.id))
    )
    facts: tuple[ProfileFact, ...] = attrs.field(
        default=(), metadata=checks(unique(lambda f: f.id))
    )
    key_dates: tuple[KeyDate, ...] = ()
    provenance: Provenance | None = None
    notes: str | None = None

    kind_name = "customer"

    def _invariants(self) -> Iterator[Problem]:
        if self.kind is CustomerKind.PERSON:
            if self.person is None:
                yield Problem(
                    code="customer.profile_missing",
                    path="$.person",
                    message="a person customer needs a person profile",
                )
            if self.organisation is not None:
                yield Problem(
                    code="customer.profile_mismatch",
                    path="$.organisation",
                    message="a person customer cannot have an organisation profile",
                )
        else:
            if self.organisation is None:
                yield Problem(
                    code="customer.profile_missing",
                    path="$.organisation",
                    message="an organisation customer needs an organisation profile",
                )
            if self.person is not None:
                yield Problem(
                    code="customer.profile_mismatch",
                    path="$.person",
                    message="an organisation customer cannot have a person profile",
                )
        if (
            self.person is not None
            and self.person.name is None
            and not self.identifiers
            and not (self.phones or self.emails or self.addresses or self.social_handles)
        ):
            yield Problem(
                code="customer.unidentified",
                path="$.person.name",
                message="a person customer needs a name, an identifier or a contact point",
            )
        if self.updated_at < self.created_at:
            yield Problem(
                code="customer.updated_before_created",
                path="$.updated_at",
                message="cannot be earlier than created_at",
            )
        for index, tag in enumerate(self.tags):
            if not isinstance(tag, str) or not tag.strip():
                yield Problem(code="value.blank", path=f"$.tags[{index}]", message="empty tag")

    # ------------------------------------------------------------------ builders

    @classmethod
    def person_named(
        cls,
        *,
        family: str = "",
        given: str = "",
        **fields: object,
    ) -> Customer:
        """Build a person customer from a family and a given name; other fields by keyword.

        A ``person=PersonProfile(...)`` (to give a birthday, say) brings its own name:
        ``family`` and ``given`` may then be left out; given as well, they must not
        contradict it (a family or given name other than the profile's, where it has
        one, is refused with ``customer.name_mismatch``), and a part the profile's name
        lacks is filled in, so the display name and the profile hold one name.

        >>> import datetime as dt
        >>> profile = PersonProfile(name=PersonName(family="林", given="月"),
        ...                         birthday=dt.date(2000, 2, 29))
        >>> Customer.person_named(person=profile).display_name
        '林月'
        """
        profile = fields.pop("person", None)
        if isinstance(profile, PersonProfile) and profile.name is not None:
            own = profile.name
            if (family and own.family and family != own.family) or (
                given and own.given and given != own.given
            ):
                problem = Problem(
                    code="customer.name_mismatch",
                    path="$.person.name",
                    message=f"family={family!r}, given={given!r} differ from the profile's "
                    f"{own.family!r}, {own.given!r}: give the name once",
                )
                raise ValidationError([problem], subject=cls.__name__)
            name = own
            if (family and not own.family) or (given and not own.given):
                # The arguments complete the profile's name: one name, in both places.
                name = attrs.evolve(own, family=family or own.family, given=given or own.given)
                profile = attrs.evolve(profile, name=name)
        else:
            name = PersonName(family=family, given=given)
            profile = profile or PersonProfile(name=name)
        return cls(
            kind=CustomerKind.PERSON,
            display_name=str(fields.pop("display_name", None) or name.display),
            person=profile,  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )

    @classmethod
    def person_known_by(cls, *, display_name: str | None = None, **fields: object) -> Customer:
        """Build a person customer known without a name: by an identifier or a contact point.

        The profile has no name (nothing is invented); ``display_name``, unless
        given, is what the customer is known by: the first identifier's value, else
        the first phone number, email address or social handle, as entered.
        Without any of them the customer is refused with ``customer.unidentified``.

        >>> from crmcore.models import IdentifierKind
        >>> card = Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value="M-000123")
        >>> Customer.person_known_by(identifiers=(card,)).display_name
        'M-000123'
        """
        if display_name is None:
            display_name = _known_by(fields) or "?"  # "?" only reaches the refusal
        return cls(
            kind=CustomerKind.PERSON,
            display_name=display_name,
            person=fields.pop("person", None) or PersonProfile(),  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )

    @classmethod
    def organisation_named(cls, legal_name: str, **fields: object) -> Customer:
        """Build an organisation customer from its legal name; other fields by keyword."""
        profile = fields.pop("organisation", None) or OrganisationProfile(legal_name=legal_name)
        return cls(
            kind=CustomerKind.ORGANISATION,
            display_name=str(fields.pop("display_name", None) or legal_name),
            organisation=profile,  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )

    # ------------------------------------------------------------------ views

    @property
    def contact_points(self) -> tuple[ContactPoint, ...]:
        """All contact points: phones, emails, addresses and social handles, in that order."""
        return (*self.phones, *self.emails, *self.addresses, *self.social_handles)

    @property
    def primary_phone(self) -> Phone | None:
        """The phone marked primary, else the first valid one, else ``None``.

        "Valid" means not flagged ``invalid``. A phone marked primary is returned
        even when flagged invalid if no valid one exists, so a customer with a
        primary phone always has one.
        """
        return _primary(self.phones)

    @property
    def primary_email(self) -> Email | None:
        """The email marked primary, else the first valid one, else ``None``.

        "Valid" means not flagged ``invalid``. A email marked primary is returned
        even when flagged invalid if no valid one exists, so a customer with a
        primary email always has one.
        """
        return _primary(self.emails)

    @property
    def primary_address(self) -> PostalAddress | None:
        """The address marked primary, else the first valid one, else ``None``.

        "Valid" means not flagged ``invalid``. A address marked primary is returned
        even when flagged invalid if no valid one exists, so a customer with a
        primary address always has one.
        """
        return _primary(self.addresses)

    def renamed_from(self, previous: Customer) -> Customer:
        """Return the customer with ``display_name`` following a rename since ``previous``.

        The rule: when ``previous.display_name`` was derived from ``previous``'s
        name (the person name's display form in either order, ``张伟``, ``Wei
        Zhang``, or the organisation's legal name) and this customer keeps that
        display name while its name changed, the display name becomes the new
        name's display form (in the same order as before). A display name the user
        chose (``张总``), or one changed in the same update, is kept. An update
        path applies it with the stored version as ``previous``.

        >>> before = Customer.person_named(family="张", given="伟")
        >>> renamed = PersonProfile(name=PersonName(family="李", given="娜"))
        >>> after = attrs.evolve(before, person=renamed)
        >>> after.display_name, after.renamed_from(before).display_name
        ('张伟', '李娜')
        """
        if self.display_name != previous.display_name:
            return self
        follows: str | None = None
        if self.person is not None and previous.person is not None:
            old, new = previous.person.name, self.person.name
            if old is not None and new is not None and old != new:
                if self.display_name == old.display:
                    follows = new.display
                elif self.display_name == old.given_first:
                    follows = new.given_first
        elif self.organisation is not None and previous.organisation is not None:
            old_legal, new_legal = previous.organisation.legal_name, self.organisation.legal_name
            if old_legal != new_legal and self.display_name == old_legal:
                follows = new_legal
        if follows is None or follows == self.display_name or not follows.strip():
            return self
        return attrs.evolve(self, display_name=follows)

    def facts_in(self, category: str) -> tuple[ProfileFact, ...]:
        """The profile facts of one category (``"preference"``, ``"taboo"``, ...)."""
        return tuple(f for f in self.facts if f.category.value == category)

    def age_on(self, day: dt.date) -> int | None:
        """A person's age in whole years on ``day``; ``None`` without a birthday."""
        if self.person is None or self.person.birthday is None:
            return None
        born = self.person.birthday
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _known_by(fields: dict[str, object]) -> str | None:
    """The first identifier value, phone number, email address or handle in ``fields``."""
    for name, attribute in (
        ("identifiers", "value"),
        ("phones", "number"),
        ("emails", "address"),
        ("social_handles", "handle"),
    ):
        items = fields.get(name)
        if isinstance(items, tuple):
            for item in items:
                text = getattr(item, attribute, None)
                if isinstance(text, str) and text.strip():
                    return text.strip()
    return None


_P = TypeVar("_P", bound=ContactPoint)


def _primary(points: tuple[_P, ...]) -> _P | None:
    for point in points:
        if point.primary and not point.invalid:
            return point
    for point in points:
        if not point.invalid:
            return point
    for point in points:
        if point.primary:
            return point
    return None

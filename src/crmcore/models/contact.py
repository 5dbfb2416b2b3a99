"""Contact points (phone, email, postal address, social handle) and contact persons.

Every contact point carries the same flags: primary, verified, invalid, the
channels the customer opted out of, consent records, and its provenance.

Numbers, addresses and emails are held *as entered* by the model; the verification
pipeline (:mod:`crmcore.rules.verification`) turns them into their normal form
(E.164 for phones) and every storage write path applies it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.calendars import Calendar, calendar_problems
from crmcore.models.checks import checks, max_length, non_blank, unique
from crmcore.models.provenance import Provenance, SourceChannel
from crmcore.models.values import PersonName

__all__ = [
    "Consent",
    "ContactPerson",
    "ContactPoint",
    "DecisionRole",
    "Email",
    "OptOut",
    "Phone",
    "PhoneKind",
    "PostalAddress",
    "SocialHandle",
]


class OptOut(enum.StrEnum):
    """A way of contacting the customer that they have refused."""

    CALL = "call"
    SMS = "sms"
    MESSAGING = "messaging"
    EMAIL = "email"
    MAIL = "mail"
    VISIT = "visit"
    ALL = "all"


@attrs.frozen(kw_only=True)
class Consent(Model):
    """A recorded grant or withdrawal of consent for one purpose (``"marketing"``, ...).

    The latest record for a purpose wins; keep the old ones for the audit trail.
    """

    purpose: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    granted: bool
    recorded_at: dt.datetime
    channel: SourceChannel = SourceChannel.UNKNOWN
    note: str | None = None


@attrs.frozen(kw_only=True)
class ContactPoint(Model):
    """Fields shared by every kind of contact point.

    Attributes:
        id: Stable id, so interactions and merges can refer to this contact point.
        label: Free label such as ``"home"``, ``"work"``, ``"assistant"``.
        primary: The preferred contact point of its kind.
        verified: Confirmed to reach the customer.
        invalid: Known not to work (bounced, disconnected); kept for history. Set by
            the user, or by the normalisation pipeline when the value as entered
            cannot be normalised (then ``invalid_by_pipeline`` is set too).
        invalid_by_pipeline: ``invalid`` is the pipeline's verdict on the value, not
            the user's flag. The pipeline recomputes it on every normalisation: once
            the value is corrected it clears both flags; a flag the user set
            (``invalid=True`` with this ``False``) is never cleared by the pipeline.
        opt_outs: Channels the customer refused for this contact point.
        consents: Consent records for purposes such as marketing.
        provenance: Where this contact point came from.
    """

    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    label: str | None = None
    primary: bool = False
    verified: bool = False
    invalid: bool = False
    invalid_by_pipeline: bool = False
    opt_outs: tuple[OptOut, ...] = attrs.field(default=(), metadata=checks(unique()))
    consents: tuple[Consent, ...] = ()
    provenance: Provenance | None = None

    def allows(self, channel: OptOut) -> bool:
        """True unless the customer opted out of ``channel`` (or of everything) here."""
        return channel not in self.opt_outs and OptOut.ALL not in self.opt_outs

    def consent_for(self, purpose: str) -> bool | None:
        """The latest consent decision for ``purpose``, or ``None`` if none was recorded."""
        latest: Consent | None = None
        for consent in self.consents:
            if consent.purpose == purpose and (
                latest is None or consent.recorded_at >= latest.recorded_at
            ):
                latest = consent
        return None if latest is None else latest.granted


class PhoneKind(enum.StrEnum):
    """What kind of line a phone number is."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    FAX = "fax"
    VOIP = "voip"
    TOLL_FREE = "toll_free"
    OTHER = "other"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class Phone(ContactPoint):
    """A phone number; stored in E.164 (``+8613800138000``) once normalised.

    Attributes:
        number: The number, E.164 after normalisation, as entered before.
        extension: An extension, digits only once normalised.
        kind: Mobile, landline, fax, ...; filled from phonenumbers' metadata by the
            normaliser when unknown.
        region: The ISO 3166 region the number was entered for (``"CN"``), used to
            read numbers written without a country code.
    """

    number: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    extension: str | None = attrs.field(default=None, metadata=checks(non_blank))
    kind: PhoneKind = PhoneKind.UNKNOWN
    region: str | None = None


@attrs.frozen(kw_only=True)
class Email(ContactPoint):
    """An email address; normalised by email-validator on every write path."""

    address: str = attrs.field(metadata=checks(non_blank, max_length(320)))


@attrs.frozen(kw_only=True)
class PostalAddress(ContactPoint):
    """A postal address in international shape.

    Attributes:
        country: ISO 3166-1 alpha-2 code once normalised (``"CN"``, ``"DE"``).
        region: Province, state or region (``"北京市"``, ``"Bayern"``).
        city: City (``"北京"``, ``"München"``).
        district: District or county (``"海淀区"``).
        street_lines: Street address lines, in the order they are written.
        postal_code: Postal code in the country's shape.
        recipient: Who to address it to, when not the customer.
    """

    country: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    region: str | None = None
    city: str | None = None
    district: str | None = None
    street_lines: tuple[str, ...] = ()
    postal_code: str | None = None
    recipient: str | None = None


@attrs.frozen(kw_only=True)
class SocialHandle(ContactPoint):
    """An account on a social or messaging platform (``wechat``, ``weibo``, ``linkedin``)."""

    platform: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    handle: str = attrs.field(metadata=checks(non_blank, max_length(256)))


class DecisionRole(enum.StrEnum):
    """A contact person's role in the customer's decision chain."""

    DECISION_MAKER = "decision_maker"
    APPROVER = "approver"
    INFLUENCER = "influencer"
    BUYER = "buyer"
    USER = "user"
    GATEKEEPER = "gatekeeper"
    CHAMPION = "champion"
    TECHNICAL_EVALUATOR = "technical_evaluator"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class ContactPerson(Model):
    """A person at an organisation customer, with their place in the decision chain.

    Attributes:
        key_person: Marked as one of the key people to keep in touch with
            (the brief's "key decision-chain people marked").
        birthday_calendar: The calendar the birthday is kept by (see
            :class:`~crmcore.models.PersonProfile`).
    """

    name: PersonName
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    role: DecisionRole = DecisionRole.OTHER
    title: str | None = None
    department: str | None = None
    key_person: bool = False
    phones: tuple[Phone, ...] = attrs.field(default=(), metadata=checks(unique(lambda p: p.id)))
    emails: tuple[Email, ...] = attrs.field(default=(), metadata=checks(unique(lambda e: e.id)))
    birthday: dt.date | None = None
    notes: str | None = None
    provenance: Provenance | None = None
    birthday_calendar: Calendar = Calendar.GREGORIAN

    def _invariants(self) -> Iterator[Problem]:
        yield from calendar_problems(self.birthday, self.birthday_calendar, "$.birthday")

"""Interactions: every contact with a customer, inbound or outbound, on any channel."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, max_length, non_blank, non_negative
from crmcore.models.customer import utc_now

__all__ = ["Direction", "Interaction", "InteractionChannel"]


class InteractionChannel(enum.StrEnum):
    """The channel an interaction took place on."""

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    SOCIAL = "social"
    CHAT = "chat"
    VISIT = "visit"
    MEETING = "meeting"
    MAIL = "mail"
    WEBSITE = "website"
    TRADE_FAIR = "trade_fair"
    SURVEY = "survey"
    STORE = "store"
    OTHER = "other"


class Direction(enum.StrEnum):
    """Who started the interaction."""

    INBOUND = "inbound"
    """The customer contacted us."""
    OUTBOUND = "outbound"
    """We contacted the customer."""


@attrs.frozen(kw_only=True)
class Interaction(Model):
    """One contact with a customer: an enquiry, a call, a visit, a mail.

    Attributes:
        customer_id: The customer it was with.
        contact_person_id: The contact person at an organisation customer, if any.
        major_event: Belongs in the customer's chronicle of major events.
    """

    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    channel: InteractionChannel
    direction: Direction
    occurred_at: dt.datetime
    subject: str = attrs.field(metadata=checks(non_blank, max_length(512)))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)
    contact_person_id: str | None = None
    notes: str | None = None
    outcome: str | None = None
    recorded_by: str | None = None
    major_event: bool = False

    kind_name = "interaction"

    @property
    def customer_initiated(self) -> bool:
        """True for inbound interactions."""
        return self.direction is Direction.INBOUND

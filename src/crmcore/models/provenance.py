"""Where a fact came from: channel, who started the contact, when seen and verified."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models.checks import checks, non_blank

__all__ = ["Provenance", "SourceChannel"]


class SourceChannel(enum.StrEnum):
    """The channel a piece of customer information came through (domain brief, section 2).

    Direct channels are contacts between the company and the customer; indirect ones
    are third parties. :attr:`is_direct` tells them apart.
    """

    # direct: research
    SURVEY = "survey"
    INTERVIEW = "interview"
    QUESTIONNAIRE = "questionnaire"
    PHONE_SURVEY = "phone_survey"
    OBSERVATION = "observation"
    # direct: marketing campaigns
    AD_REPLY = "ad_reply"
    COUPON_RETURN = "coupon_return"
    CONTEST = "contest"
    MEMBERSHIP_CLUB = "membership_club"
    # direct: service process and sales
    SERVICE_RECORD = "service_record"
    HOTLINE = "hotline"
    POINT_OF_SALE = "point_of_sale"
    ORDER = "order"
    TRADE_FAIR = "trade_fair"
    EXPO = "expo"
    NEGOTIATION = "negotiation"
    WEBSITE_REGISTRATION = "website_registration"
    CALL_CENTRE = "call_centre"
    COMPLAINT = "complaint"
    SALES_VISIT = "sales_visit"
    SELF_SERVICE = "self_service"
    # indirect
    MEDIA = "media"
    BUSINESS_REGISTRY = "business_registry"
    BANK = "bank"
    CONSULTANCY = "consultancy"
    MARKET_RESEARCH_FIRM = "market_research_firm"
    PURCHASED_LIST = "purchased_list"
    PARTNER = "partner"
    REFERRAL = "referral"
    TRADE_ASSOCIATION = "trade_association"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    DATA_EXCHANGE = "data_exchange"
    # internal
    MANUAL_ENTRY = "manual_entry"
    IMPORT = "import"
    UNKNOWN = "unknown"

    @property
    def is_direct(self) -> bool:
        """True for channels where the company dealt with the customer itself."""
        return self in _DIRECT

    @property
    def is_bought(self) -> bool:
        """True for data rented or bought from a database company."""
        return self is SourceChannel.PURCHASED_LIST


_DIRECT = frozenset(
    {
        SourceChannel.SURVEY,
        SourceChannel.INTERVIEW,
        SourceChannel.QUESTIONNAIRE,
        SourceChannel.PHONE_SURVEY,
        SourceChannel.OBSERVATION,
        SourceChannel.AD_REPLY,
        SourceChannel.COUPON_RETURN,
        SourceChannel.CONTEST,
        SourceChannel.MEMBERSHIP_CLUB,
        SourceChannel.SERVICE_RECORD,
        SourceChannel.HOTLINE,
        SourceChannel.POINT_OF_SALE,
        SourceChannel.ORDER,
        SourceChannel.TRADE_FAIR,
        SourceChannel.EXPO,
        SourceChannel.NEGOTIATION,
        SourceChannel.WEBSITE_REGISTRATION,
        SourceChannel.CALL_CENTRE,
        SourceChannel.COMPLAINT,
        SourceChannel.SALES_VISIT,
        SourceChannel.SELF_SERVICE,
    }
)


@attrs.frozen(kw_only=True)
class Provenance(Model):
    """Where and when a fact or contact point was learned, and when it was last verified.

    Attributes:
        channel: The channel it came through.
        customer_initiated: True when the customer started the contact (an inbound
            call, a complaint); such information is trusted more.
        observed_at: When the fact was learned.
        verified_at: When it was last confirmed true, if ever.
        source: Free reference to the source: a vendor's name, a campaign code, a system.
        recorded_by: Who entered it.
    """

    channel: SourceChannel
    observed_at: dt.datetime
    customer_initiated: bool = False
    verified_at: dt.datetime | None = None
    source: str | None = attrs.field(default=None, metadata=checks(non_blank))
    recorded_by: str | None = attrs.field(default=None, metadata=checks(non_blank))

    def _invariants(self) -> Iterable[Problem]:
        if self.verified_at is not None and self.verified_at < self.observed_at:
            yield Problem(
                code="provenance.verified_before_observed",
                path="$.verified_at",
                message="cannot be earlier than observed_at",
            )

    def verified(self, at: dt.datetime) -> Provenance:
        """Return a copy marked as verified at ``at``."""
        return attrs.evolve(self, verified_at=at)

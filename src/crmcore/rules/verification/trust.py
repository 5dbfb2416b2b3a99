"""Provenance and trust: how far to believe a fact, and which value wins a conflict.

Trust (brief, section 2): the more the customer started the contact, the truer the
information (an inbound call or a complaint beats an outbound call); the more
frequent the contact, the better (service desk or call centre beats a trade fair);
and what the company learned directly beats what it bought. :class:`TrustPolicy`
gives each :class:`~crmcore.models.SourceChannel` a base score from 0 to 100 that
encodes this order, and adds a bonus when the customer started the contact.

Conflicts: when two sources disagree about one fact, :func:`resolve_conflict`
applies one documented rule, in order, and records which step decided:

1. equal values: nothing to decide, keep the current one (``conflict.same_value``);
2. trust differs by at least :attr:`ConflictPolicy.trust_margin`: keep the more
   trusted value (``conflict.higher_trust``);
3. otherwise keep the value confirmed more recently (verified, else observed):
   facts decay, and among comparable sources the newer one is likelier still true
   (``conflict.more_recent``);
4. otherwise keep the current value (``conflict.kept_current``): a change needs a
   reason.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

import attrs

from crmcore.errors import Problem
from crmcore.models import Model, Provenance, SourceChannel
from crmcore.models.checks import checks, in_range, non_negative, unique
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification._zh import CHANNELS, word
from crmcore.rules.verification.messages import finding

__all__ = [
    "DEFAULT_CHANNEL_SCORES",
    "ChannelScore",
    "ConflictPolicy",
    "Resolution",
    "SourcedValue",
    "TrustAssessment",
    "TrustLevel",
    "TrustPolicy",
    "assess_trust",
    "resolve_conflict",
]

T = TypeVar("T")


class TrustLevel(enum.StrEnum):
    """A coarse trust level for people and reports."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@attrs.frozen(kw_only=True)
class ChannelScore(Model):
    """The base trust score (0-100) of one source channel."""

    channel: SourceChannel
    score: int = attrs.field(metadata=checks(in_range(0, 100)))


_BASE_SCORES: dict[str, int] = {
    # direct, frequent contact in the service process and sales
    "self_service": 80,
    "service_record": 75,
    "hotline": 75,
    "call_centre": 75,
    "complaint": 75,
    "order": 75,
    "point_of_sale": 70,
    "website_registration": 70,
    "membership_club": 65,
    "sales_visit": 60,
    "negotiation": 60,
    # direct research
    "interview": 60,
    "survey": 55,
    "questionnaire": 55,
    "phone_survey": 50,
    "observation": 50,
    # direct marketing campaigns
    "ad_reply": 55,
    "coupon_return": 50,
    "contest": 45,
    # direct but rare contact
    "trade_fair": 45,
    "expo": 45,
    # internal
    "manual_entry": 40,
    "import": 25,
    "unknown": 10,
    # indirect: third parties
    "business_registry": 40,
    "bank": 40,
    "consultancy": 35,
    "partner": 35,
    "referral": 35,
    "market_research_firm": 30,
    "trade_association": 30,
    "chamber_of_commerce": 30,
    "media": 25,
    "data_exchange": 25,
    # bought
    "purchased_list": 15,
}

DEFAULT_CHANNEL_SCORES: tuple[ChannelScore, ...] = tuple(
    ChannelScore(channel=SourceChannel(name), score=score) for name, score in _BASE_SCORES.items()
)
"""Base trust per channel: frequent direct contact highest, rare contact (trade fairs) lower,
third parties lower still, bought lists lowest; no indirect channel outranks a direct one."""


@attrs.frozen(kw_only=True)
class TrustPolicy(Spec):
    """How trust is scored.

    Attributes:
        channel_scores: Base score per channel; a channel left out scores
            ``unlisted_score``.
        customer_initiated_bonus: Added when the customer started the contact.
        unlisted_score: Base score of a channel not in ``channel_scores``.
        high_from: Scores from here up are :attr:`TrustLevel.HIGH`.
        medium_from: Scores from here up (below ``high_from``) are ``MEDIUM``.
    """

    TAG = "trust_policy"
    kind: str = "trust_policy"
    channel_scores: tuple[ChannelScore, ...] = attrs.field(
        default=DEFAULT_CHANNEL_SCORES, metadata=checks(unique(lambda c: c.channel))
    )
    customer_initiated_bonus: int = attrs.field(default=15, metadata=checks(in_range(0, 100)))
    unlisted_score: int = attrs.field(default=10, metadata=checks(in_range(0, 100)))
    high_from: int = attrs.field(default=70, metadata=checks(in_range(0, 100)))
    medium_from: int = attrs.field(default=40, metadata=checks(in_range(0, 100)))

    def _spec_invariants(self) -> Iterable[Problem]:
        if self.medium_from > self.high_from:
            yield Problem(
                code="spec.range_invalid",
                path="$.medium_from",
                message="must not exceed high_from",
            )

    def base_score(self, channel: SourceChannel) -> int:
        """Return the base score of ``channel``."""
        for entry in self.channel_scores:
            if entry.channel is channel:
                return entry.score
        return self.unlisted_score


_DEFAULT_TRUST = TrustPolicy()


@attrs.frozen(kw_only=True)
class TrustAssessment:
    """How far a fact from one provenance is trusted, and why.

    Attributes:
        score: 0 to 100.
        level: The score's :class:`TrustLevel`.
        base: The channel's base score.
        bonus: The customer-initiated bonus applied (0 when not initiated).
        channel: The provenance's channel.
    """

    score: int
    level: TrustLevel
    base: int
    bonus: int
    channel: SourceChannel


def assess_trust(
    provenance: Provenance, *, policy: TrustPolicy = _DEFAULT_TRUST
) -> TrustAssessment:
    """Score the trust of a fact from ``provenance``.

    >>> import datetime as dt
    >>> from crmcore.models import Provenance, SourceChannel
    >>> seen = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> inbound = Provenance(
    ...     channel=SourceChannel.HOTLINE, observed_at=seen, customer_initiated=True
    ... )
    >>> assess_trust(inbound).score, assess_trust(inbound).level.value
    (90, 'high')
    """
    base = policy.base_score(provenance.channel)
    bonus = policy.customer_initiated_bonus if provenance.customer_initiated else 0
    score = min(100, base + bonus)
    if score >= policy.high_from:
        level = TrustLevel.HIGH
    elif score >= policy.medium_from:
        level = TrustLevel.MEDIUM
    else:
        level = TrustLevel.LOW
    return TrustAssessment(
        score=score, level=level, base=base, bonus=bonus, channel=provenance.channel
    )


@attrs.frozen(kw_only=True)
class ConflictPolicy(Spec):
    """How two sources' disagreement about one fact is settled (see the module docs).

    Attributes:
        trust: The trust policy used to compare the sources.
        trust_margin: The least trust difference that decides on its own.
    """

    TAG = "conflict_policy"
    kind: str = "conflict_policy"
    trust: TrustPolicy = attrs.field(factory=TrustPolicy)
    trust_margin: int = attrs.field(default=10, metadata=checks(non_negative))


_DEFAULT_CONFLICT = ConflictPolicy()


@attrs.frozen(kw_only=True)
class SourcedValue(Generic[T]):
    """A value of a fact together with where it came from."""

    value: T
    provenance: Provenance

    @property
    def confirmed_at(self) -> dt.datetime:
        """When the value was last confirmed: verified, else observed."""
        return self.provenance.verified_at or self.provenance.observed_at


@attrs.frozen(kw_only=True)
class Resolution(Generic[T]):
    """The outcome of a conflict: which value to keep, and the recorded reason.

    Attributes:
        kept: The value to keep.
        discarded: The other value (keep it in the change history).
        changed: True when the incoming value replaced the current one.
        kept_trust: Trust of the kept value.
        discarded_trust: Trust of the discarded value.
        reason: A coded, localised finding naming the rule that decided.
    """

    kept: SourcedValue[T]
    discarded: SourcedValue[T]
    changed: bool
    kept_trust: TrustAssessment
    discarded_trust: TrustAssessment
    reason: Problem

    @property
    def rule(self) -> str:
        """The code of the rule that decided (``conflict.higher_trust``, ...)."""
        return self.reason.code


def resolve_conflict(
    current: SourcedValue[T],
    incoming: SourcedValue[T],
    *,
    policy: ConflictPolicy = _DEFAULT_CONFLICT,
    path: str = "$",
    locale: str = "en",
) -> Resolution[T]:
    """Decide between the current and an incoming value of one fact (rule in module docs)."""
    cur = assess_trust(current.provenance, policy=policy.trust)
    inc = assess_trust(incoming.provenance, policy=policy.trust)

    def outcome(keep_incoming: bool, code: str, **params: Any) -> Resolution[T]:
        kept, other = (incoming, current) if keep_incoming else (current, incoming)
        kept_trust, other_trust = (inc, cur) if keep_incoming else (cur, inc)
        return Resolution(
            kept=kept,
            discarded=other,
            changed=keep_incoming,
            kept_trust=kept_trust,
            discarded_trust=other_trust,
            reason=finding(code, path, locale=locale, **params),
        )

    if current.value == incoming.value:
        return outcome(False, "conflict.same_value")
    if abs(cur.score - inc.score) >= max(policy.trust_margin, 1):
        keep_incoming = inc.score > cur.score
        kept, other = (inc, cur) if keep_incoming else (cur, inc)
        return outcome(
            keep_incoming,
            "conflict.higher_trust",
            kept_channel=word(CHANNELS, kept.channel.value, locale),
            kept_score=kept.score,
            other_channel=word(CHANNELS, other.channel.value, locale),
            other_score=other.score,
            margin=policy.trust_margin,
        )
    if current.confirmed_at != incoming.confirmed_at:
        keep_incoming = incoming.confirmed_at > current.confirmed_at
        kept_v, other_v = (incoming, current) if keep_incoming else (current, incoming)
        kept_t, other_t = (inc, cur) if keep_incoming else (cur, inc)
        return outcome(
            keep_incoming,
            "conflict.more_recent",
            kept_score=kept_t.score,
            other_score=other_t.score,
            kept_at=kept_v.confirmed_at.isoformat(),
            other_at=other_v.confirmed_at.isoformat(),
        )
    return outcome(False, "conflict.kept_current")

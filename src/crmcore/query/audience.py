"""Who may be contacted: the consent audience rule behind :class:`~crmcore.query.Reachable`.

A customer is *reachable* on a channel for a purpose when one of **its own** contact
points of that channel's kind (:data:`CHANNEL_POINTS`):

* is not marked ``invalid``;
* allows the channel (:meth:`~crmcore.models.ContactPoint.allows`: the customer did not
  opt out of it, nor of ``all``, on that point); and
* for a purpose, has a **latest** consent decision for it that is a grant
  (:meth:`~crmcore.models.ContactPoint.consent_for` is ``True``): an older grant followed
  by a withdrawal does not count, and neither does a point with no decision at all.
  Without a purpose, reachability alone is enough.

Everything is decided per contact point: a grant recorded on one phone does not make
another phone of the same customer reachable. Contact persons' phones and emails (of an
organisation customer) are not the customer's contact points and do not count: their
consents are those persons' own.

Channels are :class:`~crmcore.models.OptOut` values other than ``all``: ``call`` and
``sms`` reach phones; ``messaging`` reaches phones and social handles (chat apps such as
WeChat are reached through either); ``email`` reaches email addresses; ``mail`` and
``visit`` reach postal addresses.

:func:`reachable_keys` lists every (channel, purpose) a customer is reachable for as
keys (``"sms"``, ``"sms:marketing"``), the form a backend indexes; :func:`is_reachable`
is the rule itself.

>>> import datetime as dt
>>> from crmcore.models import Consent, Customer, Phone
>>> at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
>>> phone = Phone(number="+8613800138000", consents=(
...     Consent(purpose="marketing", granted=True, recorded_at=at),
...     Consent(purpose="marketing", granted=False, recorded_at=at + dt.timedelta(days=30)),
... ))
>>> guest = Customer.person_named(family="王", given="芳", phones=(phone,))
>>> sorted(reachable_keys(guest))
['call', 'messaging', 'sms']
>>> is_reachable(guest, "sms", "marketing")
False
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from crmcore.models import OptOut

if TYPE_CHECKING:
    from crmcore.models import ContactPoint, Customer

__all__ = [
    "CHANNELS",
    "CHANNEL_POINTS",
    "audience_key",
    "is_reachable",
    "points_for",
    "reachable_keys",
]

CHANNEL_POINTS: dict[OptOut, tuple[str, ...]] = {
    OptOut.CALL: ("phones",),
    OptOut.SMS: ("phones",),
    OptOut.MESSAGING: ("phones", "social_handles"),
    OptOut.EMAIL: ("emails",),
    OptOut.MAIL: ("addresses",),
    OptOut.VISIT: ("addresses",),
}
"""The customer fields whose contact points each channel reaches."""

CHANNELS: tuple[OptOut, ...] = tuple(CHANNEL_POINTS)
"""The channels a customer can be reached on (every :class:`OptOut` but ``all``)."""


def audience_key(channel: OptOut | str, purpose: str | None = None) -> str:
    """The key of a channel and purpose: ``"sms"``, or ``"sms:marketing"`` with a purpose.

    A channel has no ``":"``, so the key splits back at its first ``":"``.
    """
    name = OptOut(channel).value
    return name if purpose is None else f"{name}:{purpose}"


def points_for(customer: Customer, channel: OptOut) -> list[ContactPoint]:
    """The customer's own contact points that ``channel`` reaches, in field order."""
    found: list[ContactPoint] = []
    for name in CHANNEL_POINTS[channel]:
        points: Sequence[ContactPoint] = getattr(customer, name)
        found.extend(points)
    return found


def _usable(point: ContactPoint, channel: OptOut) -> bool:
    return not point.invalid and point.allows(channel)


def is_reachable(customer: Customer, channel: OptOut | str, purpose: str | None = None) -> bool:
    """True when one contact point reaches ``customer`` on ``channel`` for ``purpose``."""
    wanted = OptOut(channel)
    return any(
        _usable(point, wanted) and (purpose is None or point.consent_for(purpose) is True)
        for point in points_for(customer, wanted)
    )


def reachable_keys(customer: Customer) -> frozenset[str]:
    """Every :func:`audience_key` the customer is reachable for.

    ``audience_key(c, p) in reachable_keys(customer)`` exactly when
    ``is_reachable(customer, c, p)``: ``"sms"`` when some phone allows SMS, and
    ``"sms:marketing"`` when such a phone's latest marketing decision is a grant.
    """
    keys: set[str] = set()
    for channel in CHANNELS:
        for point in points_for(customer, channel):
            if not _usable(point, channel):
                continue
            keys.add(channel.value)
            for purpose in {consent.purpose for consent in point.consents}:
                if point.consent_for(purpose) is True:
                    keys.add(f"{channel.value}:{purpose}")
    return frozenset(keys)

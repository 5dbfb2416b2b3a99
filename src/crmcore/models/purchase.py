"""Purchases: what a customer bought, for value, profitability and RFM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, max_length, non_blank, non_negative, positive
from crmcore.models.customer import utc_now
from crmcore.models.provenance import SourceChannel
from crmcore.models.values import MONEY_LIMIT, Money

__all__ = ["Purchase"]


@attrs.frozen(kw_only=True)
class Purchase(Model):
    """One purchase by a customer.

    ``amount`` is what the customer paid for the line (a negative amount is a
    refund). ``cost``, when known, is what it cost us, so margin and profitability
    can be computed; it must be in the same currency as ``amount``.
    """

    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    purchased_at: dt.datetime
    amount: Money
    product: str = attrs.field(metadata=checks(non_blank, max_length(256)))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)
    category: str | None = attrs.field(default=None, metadata=checks(max_length(128)))
    quantity: Decimal = attrs.field(default=Decimal(1), metadata=checks(positive))
    cost: Money | None = None
    channel: SourceChannel | None = None
    order_ref: str | None = None

    kind_name = "purchase"

    def _invariants(self) -> Iterator[Problem]:
        if self.cost is not None and self.cost.currency != self.amount.currency:
            yield Problem(
                code="purchase.currency_mismatch",
                path="$.cost.currency",
                message=f"must match the amount's currency {self.amount.currency}",
            )
        elif self.cost is not None and abs(self.amount.amount - self.cost.amount) >= MONEY_LIMIT:
            # The margin is money too: refuse the purchase rather than fail on .margin.
            yield Problem(
                code="money.out_of_range",
                path="$.cost.amount",
                message=f"the margin (amount minus cost) must be below {MONEY_LIMIT} in size",
            )

    @property
    def margin(self) -> Money | None:
        """Amount minus cost, or ``None`` when the cost is unknown."""
        if self.cost is None:
            return None
        return Money(amount=self.amount.amount - self.cost.amount, currency=self.amount.currency)

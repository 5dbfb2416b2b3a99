"""Shared builders for the segmentation tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crmcore.rules.segmentation import CurrencySummary

AS_OF = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)


def summary(
    customer: str,
    *,
    recency: int = 10,
    purchases: int = 1,
    total: str | int = 100,
    margin: str | int | None = None,
    currency: str = "CNY",
) -> CurrencySummary:
    """A summary with the given values (the dates follow from recency)."""
    last = AS_OF - dt.timedelta(days=recency)
    return CurrencySummary(
        customer_id=customer,
        currency=currency,
        first_purchase=last - dt.timedelta(days=30 * (purchases - 1)),
        last_purchase=last,
        recency_days=recency,
        purchases=purchases,
        total=Decimal(total),
        mean=Decimal(total) / purchases,
        margin=Decimal(margin) if margin is not None else None,
        costed_purchases=1 if margin is not None else 0,
    )

"""Batch normalisers that fail on purpose, importable by the spawned import workers."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

import attrs

from crmcore.models import Customer
from crmcore.rules.verification import NormalisationPipeline, NormalisationResult

__all__ = ["BOOM", "Crashing", "Exploding"]

BOOM = "BOOM"
"""The display name that makes these normalisers fail."""


@attrs.frozen
class Exploding:
    """The CN pipeline, except that a batch holding a customer named ``BOOM`` raises."""

    pipeline: NormalisationPipeline = attrs.field(
        factory=lambda: NormalisationPipeline(default_region="CN")
    )

    def __call__(self, customer: Customer, *, now: dt.datetime) -> Customer:
        """Normalise one customer (the one-worker path of ``add``)."""
        return self.pipeline(customer, now=now)

    def check_many(
        self, customers: Sequence[Customer], *, now: dt.datetime
    ) -> Sequence[NormalisationResult]:
        """Normalise a batch, or raise ``RuntimeError`` if it holds ``BOOM``."""
        if any(c.display_name == BOOM for c in customers):
            raise RuntimeError("the normaliser met BOOM")
        return self.pipeline.check_many(customers, now=now)


@attrs.frozen
class Crashing(Exploding):
    """Like :class:`Exploding`, but the process dies instead of raising."""

    def check_many(
        self, customers: Sequence[Customer], *, now: dt.datetime
    ) -> Sequence[NormalisationResult]:
        """Normalise a batch, or end the process at once if it holds ``BOOM``."""
        if any(c.display_name == BOOM for c in customers):
            os._exit(3)
        return self.pipeline.check_many(customers, now=now)

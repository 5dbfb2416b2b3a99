"""Small builders for the dedupe tests (customers come from ``crmcore.testing.data``)."""

from __future__ import annotations

from crmcore.rules.dedupe import FieldWeight, PairExplanation, probability
from crmcore.testing.data import PERSON_AT, person

__all__ = ["AT", "person", "scored_pair"]

AT = PERSON_AT


def scored_pair(left: str, right: str, total: float) -> PairExplanation:
    """A pair explanation with one field weighing ``total`` (for clustering tests)."""
    weight = FieldWeight(
        field="name", level=5, label="exact", left="x", right="x", m=0.9, u=0.1, weight=total
    )
    return PairExplanation(
        left=left,
        right=right,
        prior_weight=0.0,
        fields=(weight,),
        total=total,
        probability=probability(total),
    )

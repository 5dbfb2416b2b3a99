"""Satisfaction gap: perceived performance minus expectation (brief section 7).

Below ``-tolerance`` the customer is dissatisfied, above ``tolerance`` delighted
(the brief's "highly satisfied"), in between satisfied. A closed complaint's
``satisfaction`` (-2 to 2) is already such a gap, so :func:`complaint_satisfaction`
classifies those.

>>> from decimal import Decimal
>>> satisfaction_gap(SatisfactionSpec(), perceived=Decimal(3), expected=Decimal(4)).level
<SatisfactionLevel.DISSATISFIED: 'dissatisfied'>
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from crmcore.models import Complaint
from crmcore.models._base import checks, non_negative
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import Explanation, Factor
from crmcore.rules.verification import Spec

__all__ = [
    "SatisfactionAssessment",
    "SatisfactionLevel",
    "SatisfactionSpec",
    "complaint_satisfaction",
    "satisfaction_gap",
]


class SatisfactionLevel(enum.StrEnum):
    """Where perceived performance stands against expectation."""

    DISSATISFIED = "dissatisfied"
    SATISFIED = "satisfied"
    DELIGHTED = "delighted"


@attrs.frozen(kw_only=True)
class SatisfactionSpec(Spec):
    """How far from zero a gap may be and still count as satisfied."""

    TAG = "satisfaction_gap"
    kind: str = "satisfaction_gap"
    tolerance: Decimal = attrs.field(default=Decimal(0), metadata=checks(non_negative))


@attrs.frozen(kw_only=True)
class SatisfactionAssessment:
    """A gap, its level and the explanation; ``subject_id`` names what was measured."""

    gap: Decimal
    level: SatisfactionLevel
    explanation: Explanation
    customer_id: str | None = None
    subject_id: str | None = None


def satisfaction_gap(
    spec: SatisfactionSpec,
    *,
    perceived: Decimal,
    expected: Decimal,
    customer_id: str | None = None,
    subject_id: str | None = None,
) -> SatisfactionAssessment:
    """Classify ``perceived - expected``."""
    gap = perceived - expected
    if gap < -spec.tolerance:
        level = SatisfactionLevel.DISSATISFIED
    elif gap > spec.tolerance:
        level = SatisfactionLevel.DELIGHTED
    else:
        level = SatisfactionLevel.SATISFIED
    factors = (
        Factor(name="perceived", value=perceived),
        Factor(name="expected", value=expected),
        Factor(
            name="gap",
            value=gap,
            cut_points=(-spec.tolerance, spec.tolerance),
            rule="dissatisfied below the first cut point, delighted above the second",
        ),
    )
    return SatisfactionAssessment(
        gap=gap,
        level=level,
        customer_id=customer_id,
        subject_id=subject_id,
        explanation=Explanation(
            rule=spec.kind,
            outcome=level.value,
            factors=factors,
            reason=f"perceived {perceived} - expected {expected} = {gap} -> {level.value}",
        ),
    )


@item_types(complaints=Complaint)
def complaint_satisfaction(
    spec: SatisfactionSpec, complaints: Iterable[Complaint]
) -> tuple[SatisfactionAssessment, ...]:
    """Classify each complaint's recorded satisfaction, ordered by complaint id."""
    out = []
    for complaint in sorted(complaints, key=lambda c: c.id):
        if complaint.satisfaction is None:
            continue
        out.append(
            satisfaction_gap(
                spec,
                perceived=Decimal(complaint.satisfaction),
                expected=Decimal(0),
                customer_id=complaint.customer_id,
                subject_id=complaint.id,
            )
        )
    return tuple(out)

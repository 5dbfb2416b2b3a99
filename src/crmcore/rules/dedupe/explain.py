"""Pair explanations: each field's level, the values that met, the weight, and the total.

A :class:`PairExplanation` is plain data (strings, ints and floats): it goes
through :func:`crmcore.serialization.to_dict` or :meth:`PairExplanation.to_dict`
as it is, so an application can show why two customers were matched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from crmcore.rules.dedupe._features import Features
from crmcore.rules.dedupe.compare import NULL, FieldComparison, compare
from crmcore.rules.dedupe.model import MatchModel, probability

__all__ = ["FieldWeight", "PairExplanation", "explain_comparisons", "explain_pair"]


@attrs.frozen(kw_only=True)
class FieldWeight:
    """One field of a pair: its level, the values compared, m, u and the weight.

    Attributes:
        field: The field (``"name"``, ``"phone"``, ...).
        level: The comparison level (-1 when a side has no value).
        label: The level's label.
        left: The left customer's value that decided the level.
        right: The right customer's value.
        m: P(level | duplicate); ``None`` for a null level.
        u: P(level | different); ``None`` for a null level.
        weight: ``log2(m / u)``; 0 for a null level.
    """

    field: str
    level: int
    label: str
    left: str | None
    right: str | None
    m: float | None
    u: float | None
    weight: float


@attrs.frozen(kw_only=True)
class PairExplanation:
    """Why two customers are (or are not) likely duplicates.

    Attributes:
        left: The left customer's id.
        right: The right customer's id.
        prior_weight: The model's prior weight, where every pair starts.
        fields: Each compared field's level and weight, in the spec's order.
        total: ``math.fsum`` of the prior weight and the field weights.
        probability: The match probability of the total.
        keys: The blocking keys the pair shared (empty when it was not blocked).
    """

    left: str
    right: str
    prior_weight: float
    fields: tuple[FieldWeight, ...]
    total: float
    probability: float
    keys: tuple[str, ...] = ()

    @property
    def vector(self) -> tuple[int, ...]:
        """The pair's comparison vector."""
        return tuple(f.level for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready plain data."""
        return attrs.asdict(self, recurse=True, value_serializer=_plain)


def _plain(_: object, __: object, value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def explain_pair(
    left: Features, right: Features, model: MatchModel, *, keys: tuple[str, ...] = ()
) -> PairExplanation:
    """Compare two customers and weigh every field with ``model``."""
    compared = compare(left, right, spec=model.comparison)
    return explain_comparisons(left.customer_id, right.customer_id, compared, model, keys=keys)


def explain_comparisons(
    left_id: str,
    right_id: str,
    comparisons: Sequence[FieldComparison],
    model: MatchModel,
    *,
    keys: tuple[str, ...] = (),
) -> PairExplanation:
    """Weigh a pair's comparisons (``compare`` under ``model.comparison``) with ``model``.

    :func:`explain_pair` is this over ``compare(left, right)``; a batch that has
    compared its pairs already (to fit the model) weighs those comparisons instead
    of comparing every pair again.
    """
    weights = []
    for index, comparison in enumerate(comparisons):
        if comparison.level == NULL:
            m = u = None
            weight = 0.0
        else:
            params = model.fields[index].levels[comparison.level]
            m, u, weight = params.m, params.u, params.weight
        weights.append(
            FieldWeight(
                field=comparison.field.value,
                level=comparison.level,
                label=comparison.label,
                left=comparison.left,
                right=comparison.right,
                m=m,
                u=u,
                weight=weight,
            )
        )
    prior_weight = model.prior_weight
    total = math.fsum([prior_weight, *(w.weight for w in weights)])
    return PairExplanation(
        left=left_id,
        right=right_id,
        prior_weight=prior_weight,
        fields=tuple(weights),
        total=total,
        probability=probability(total),
        keys=keys,
    )

"""Pair explanations: each field's level, the values that met, the weight, and the total.

A :class:`PairExplanation` is plain data (strings, ints and floats): it goes
through :func:`crmcore.serialization.to_dict` or :meth:`PairExplanation.to_dict`
as it is, so an application can show why two customers were matched.

A batch weighs its pairs from their comparison vectors with a :class:`WeightTable`
(each field's weight by level, each distinct vector's total worked out once) and
keeps them in :class:`ExplainedPairs`, which builds a pair's explanation only when
it is read: the pairs that reach the threshold and those below it inside the
groups they make (clustering reads them: :meth:`ExplainedPairs.linked`), and those
a caller asks for. What it builds is what :func:`explain_pair` gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.rules.dedupe._checks import check_threshold
from crmcore.rules.dedupe._components import Components
from crmcore.rules.dedupe._features import Features
from crmcore.rules.dedupe.blocking import CandidatePair
from crmcore.rules.dedupe.compare import NULL, FieldComparison, compare, compare_levels
from crmcore.rules.dedupe.model import MatchModel, probability

__all__ = [
    "ExplainedPairs",
    "FieldWeight",
    "PairExplanation",
    "WeightTable",
    "explain_comparisons",
    "explain_pair",
]


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


class WeightTable:
    """A model's weights by field and level, and the total and probability of a vector.

    ``score(vector)`` is ``(total, probability)`` exactly as :func:`explain_comparisons`
    works them out (``math.fsum`` of the prior weight and the field weights, 0 for a
    null level); each distinct vector is summed once, however many pairs share it.
    """

    def __init__(self, model: MatchModel) -> None:
        self.model = model
        self._prior = model.prior_weight
        # index 0 is the null level (-1), then levels 0, 1, ...
        self._weights = [(0.0, *(level.weight for level in field.levels)) for field in model.fields]
        self._scores: dict[tuple[int, ...], tuple[float, float]] = {}

    def score(self, vector: tuple[int, ...]) -> tuple[float, float]:
        """The vector's total weight and match probability."""
        found = self._scores.get(vector)
        if found is None:
            total = math.fsum(
                [
                    self._prior,
                    *(w[level + 1] for w, level in zip(self._weights, vector, strict=True)),
                ]
            )
            found = self._scores[vector] = (total, probability(total))
        return found


class ExplainedPairs(Sequence[PairExplanation]):
    """Scored candidate pairs whose explanations are built when first read.

    A sequence of :class:`PairExplanation`, in the order of the pairs given: item
    ``i`` equals ``explain_pair(items[left], items[right], model, keys=keys)`` of
    pair ``i`` (the test ``tests/unit/dedupe/test_lazy_scoring.py`` proves it), and
    is built once, then kept. :meth:`probability` and :meth:`reaching` read the
    scores without building explanations. Pairs of customers of different kinds
    must be left out by the caller.
    """

    def __init__(
        self,
        items: Mapping[str, Features],
        pairs: Sequence[CandidatePair],
        model: MatchModel,
        *,
        vectors: Sequence[tuple[int, ...]] | None = None,
    ) -> None:
        self._items = items
        self._pairs = list(pairs)
        self._model: MatchModel | None = model
        spec = model.comparison
        if vectors is None:
            vectors = [compare_levels(items[p.left], items[p.right], spec=spec) for p in pairs]
        if len(vectors) != len(self._pairs):
            raise ValidationError(
                [
                    Problem(
                        code="dedupe.vectors_invalid",
                        path="$.vectors",
                        message=f"expected one vector per pair ({len(self._pairs)}), "
                        f"got {len(vectors)}",
                    )
                ],
                subject="dedupe",
            )
        table = WeightTable(model)
        self._scores = [table.score(v) for v in vectors]
        self._explained: dict[int, PairExplanation] = {}

    @classmethod
    def built(cls, explanations: Iterable[PairExplanation]) -> ExplainedPairs:
        """Pairs explained already (the reference path), with the same reads.

        ``probability``, ``reaching`` and ``linked`` answer from each explanation's own
        probability; nothing is left to build.

        >>> ExplainedPairs.built(()).reaching(0.9)
        ()
        """
        made = cls.__new__(cls)
        done = tuple(explanations)
        made._items = {}
        made._pairs = [CandidatePair(left=e.left, right=e.right, keys=e.keys) for e in done]
        made._model = None
        made._scores = [(e.total, e.probability) for e in done]
        made._explained = dict(enumerate(done))
        return made

    def __len__(self) -> int:
        return len(self._pairs)

    @overload
    def __getitem__(self, index: int) -> PairExplanation: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[PairExplanation, ...]: ...

    def __getitem__(self, index: int | slice) -> PairExplanation | tuple[PairExplanation, ...]:
        if isinstance(index, slice):
            return tuple(self._explain(i) for i in range(len(self._pairs))[index])
        return self._explain(self._position(index))

    def _position(self, index: object) -> int:
        """``index`` as a position in the pairs, as a tuple reads it (negative from the end)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"pair indices must be integers or slices, not {type(index).__name__}")
        position = index + len(self._pairs) if index < 0 else index
        if not 0 <= position < len(self._pairs):
            raise IndexError("pair index out of range")
        return position

    def __iter__(self) -> Iterator[PairExplanation]:
        return (self._explain(i) for i in range(len(self._pairs)))

    def __eq__(self, other: object) -> bool:
        # equal to another ExplainedPairs or a tuple of the same explanations, as a tuple is
        if isinstance(other, ExplainedPairs | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"ExplainedPairs({len(self._pairs)} pairs, {len(self._explained)} explained)"

    def probability(self, index: int) -> float:
        """Pair ``index``'s match probability, without building its explanation."""
        return self._scores[self._position(index)][1]

    def reaching(self, threshold: float) -> tuple[PairExplanation, ...]:
        """The explanations of the pairs whose probability is at least ``threshold``, in order.

        Raises:
            ValidationError: ``dedupe.threshold_invalid`` for a threshold that is not a
                probability from 0 to 1, as :func:`cluster` says.
        """
        check_threshold(threshold, "reaching")
        return tuple(
            self._explain(i) for i, (_, chance) in enumerate(self._scores) if chance >= threshold
        )

    def linked(self, threshold: float) -> tuple[PairExplanation, ...]:
        """The pairs :func:`.cluster.cluster` needs at ``threshold``, in order.

        Those reaching the threshold, and those below it whose two customers the
        reaching pairs connect (they can keep two groups apart); clustering them
        gives the groups that clustering every pair would.

        Raises:
            ValidationError: ``dedupe.threshold_invalid``, as :meth:`reaching`.
        """
        check_threshold(threshold, "linked")
        parts = Components()
        reached = [chance >= threshold for _, chance in self._scores]
        for pair, reaches in zip(self._pairs, reached, strict=True):
            if reaches:
                parts.join(pair.left, pair.right)
        return tuple(
            self._explain(i)
            for i, (pair, reaches) in enumerate(zip(self._pairs, reached, strict=True))
            if reaches or parts.together(pair.left, pair.right)
        )

    def _explain(self, index: int) -> PairExplanation:
        found = self._explained.get(index)
        if found is None:
            assert self._model is not None  # built() explained every pair
            pair = self._pairs[index]
            found = explain_pair(
                self._items[pair.left], self._items[pair.right], self._model, keys=pair.keys
            )
            self._explained[index] = found
        return found

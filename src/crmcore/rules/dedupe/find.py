"""The whole batch check: block, compare, fit, score and group, in one call.

:func:`find_duplicates` is the reference pipeline over customers held in
memory. Each step is also a function of its own (:func:`.keys.blocking_keys`,
:func:`.blocking.candidate_pairs`, :func:`.compare.compare_levels`,
:func:`.model.fit`, :func:`.explain.explain_pair`, :func:`.cluster.cluster`), so a
storage backend can run blocking as SQL joins and hand over only the pairs.
Pairs of a person and an organisation are never compared.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from crmcore._collector import collector_paused
from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import WrongType
from crmcore.models import Customer
from crmcore.rules.dedupe._features import Features, features
from crmcore.rules.dedupe.blocking import (
    BlockingReport,
    CandidatePair,
    Candidates,
    candidate_pairs,
)
from crmcore.rules.dedupe.cluster import Clustering, NotDuplicate, check_threshold, cluster
from crmcore.rules.dedupe.compare import (
    DEFAULT_COMPARISON,
    ComparisonSpec,
    FieldComparison,
    compare,
    level_vectors,
)
from crmcore.rules.dedupe.explain import (
    ExplainedPairs,
    PairExplanation,
    explain_comparisons,
    explain_pair,
)
from crmcore.rules.dedupe.keys import DEFAULT_BLOCKING, BlockingSpec, feature_keys
from crmcore.rules.dedupe.model import MatchModel, fit

__all__ = [
    "DedupeResult",
    "find_duplicates",
    "needed_ids",
    "pairs_of_one_kind",
    "random_pairs",
    "resolve_candidates",
    "score_pairs",
]


@attrs.frozen(kw_only=True)
class DedupeResult:
    """What a batch check found.

    Attributes:
        blocking: How the candidate pairs were found, and what the cap cut.
        model: The model the pairs were scored with (fitted here unless given);
            ``None`` when there was nothing to fit on (fewer than two customers
            of one kind).
        pairs: Every compared candidate pair, explained, by ``(left, right)``: an
            :class:`.explain.ExplainedPairs` (each explanation built when first
            read; those of the pairs reaching the threshold are built already; with
            fast paths off every one is built, through :meth:`ExplainedPairs.built`).
        clustering: The duplicate groups at the threshold.
    """

    blocking: BlockingReport
    model: MatchModel | None
    pairs: ExplainedPairs
    clustering: Clustering


def random_pairs(ids: Sequence[str], count: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """Up to ``count`` pairs of distinct ids drawn with a seeded generator (deterministic)."""
    if len(ids) < 2:
        return []
    chooser = random.Random(seed)
    ordered = sorted(ids)
    pairs = []
    for _ in range(count):
        a, b = chooser.sample(range(len(ordered)), 2)
        pairs.append((ordered[a], ordered[b]))
    return pairs


def score_pairs(
    items: Mapping[str, Features], pairs: Iterable[CandidatePair], model: MatchModel
) -> tuple[PairExplanation, ...]:
    """Explain each candidate pair of customers of one kind with ``model``."""
    return tuple(
        explain_pair(items[p.left], items[p.right], model, keys=p.keys)
        for p in pairs
        if items[p.left].kind == items[p.right].kind
    )


def find_duplicates(
    customers: Iterable[Customer],
    *,
    threshold: float = 0.9,
    blocking: BlockingSpec = DEFAULT_BLOCKING,
    comparison: ComparisonSpec = DEFAULT_COMPARISON,
    model: MatchModel | None = None,
    not_duplicates: Iterable[NotDuplicate] = (),
    sample_pairs: int = 20_000,
    seed: int = 0,
) -> DedupeResult:
    """Find the duplicate groups among ``customers`` without labels.

    Without a ``model`` one is fit by EM on the candidate pairs' vectors, the
    pairs blocking did not make standing in through ``sample_pairs`` random pairs
    (drawn with ``seed``; candidates among them left out; every such pair when
    there are no more than ``sample_pairs`` of them), so u is learnt mostly
    from pairs of different customers and the prior is the share of duplicates
    among all pairs of customers of one kind. ``threshold`` is the match
    probability a pair needs to join a group.
    """
    _check_arguments(customers, model, threshold)
    items: dict[str, Features] = {}
    keyed: list[tuple[str, tuple[str, ...]]] = []
    with collector_paused():
        for customer in customers:
            item = features(customer, region=blocking.region)
            keyed.append((customer.id, feature_keys(item, passes=blocking.passes)))
            items.setdefault(customer.id, item)
        found = candidate_pairs(keyed, max_block_size=blocking.max_block_size)
        return resolve_candidates(
            found,
            items,
            ids=list(items),
            threshold=threshold,
            comparison=comparison,
            model=model,
            not_duplicates=not_duplicates,
            sample_pairs=sample_pairs,
            seed=seed,
        )


def pairs_of_one_kind(kinds: Mapping[Any, int]) -> int:
    """How many pairs of customers of one kind there are, given the count of each kind."""
    return sum(n * (n - 1) // 2 for n in kinds.values())


def _check_arguments(customers: object, model: object, threshold: object) -> None:
    if not isinstance(customers, Iterable):
        raise WrongType(f"expected customers (an iterable), got {type(customers).__name__}")
    if model is not None and not isinstance(model, MatchModel):
        raise WrongType(f"model: expected a fitted MatchModel, got {type(model).__name__}")
    check_threshold(threshold, "find_duplicates")


def needed_ids(
    found: Candidates,
    ids: Sequence[str],
    *,
    sample_pairs: int = 20_000,
    seed: int = 0,
    population: int | None = None,
) -> set[str]:
    """The customers :func:`resolve_candidates` reads when it fits a model.

    Those of the candidate pairs and of the ``sample_pairs`` random pairs drawn
    from ``ids`` with ``seed`` (with a model given, pass ``sample_pairs=0``: only the
    pairs' customers); every customer when the pairs of one kind (``population``,
    :func:`pairs_of_one_kind`) outside the candidates are few enough to compare all.
    """
    wanted = {p.left for p in found.pairs} | {p.right for p in found.pairs}
    if sample_pairs and population is not None and population - len(found.pairs) <= sample_pairs:
        return set(ids)
    for a, b in random_pairs(ids, sample_pairs, seed=seed):
        wanted.add(a)
        wanted.add(b)
    return wanted


@collector_paused()
def resolve_candidates(
    found: Candidates,
    items: Mapping[str, Features],
    *,
    ids: Sequence[str],
    threshold: float = 0.9,
    comparison: ComparisonSpec = DEFAULT_COMPARISON,
    model: MatchModel | None = None,
    not_duplicates: Iterable[NotDuplicate] = (),
    sample_pairs: int = 20_000,
    seed: int = 0,
    population: int | None = None,
) -> DedupeResult:
    """Compare, fit, score and group candidate pairs found elsewhere (steps 2 to 5).

    ``ids`` are every customer blocked (the random pairs that stand for the
    non-candidates are drawn from them); ``population`` is the number of pairs of
    customers of one kind among them (:func:`pairs_of_one_kind`; counted from
    ``items`` when not given, which then must hold every customer); ``items`` holds
    the features of at least the customers of the candidate pairs and, without a
    ``model``, of :func:`needed_ids` (given the same ``population``). The SQL storage
    finds ``found`` inside the database and reads only those customers;
    :func:`find_duplicates` is this over the candidates of customers in memory.
    """
    same_kind = [p for p in found.pairs if items[p.left].kind == items[p.right].kind]
    # Fast path: pairs are weighed from their level vectors (WeightTable) and explained
    # only when read (ExplainedPairs); the reference explains every pair at once.
    lazy = fast_paths_enabled()
    compared: list[tuple[FieldComparison, ...]] = []
    vectors: list[tuple[int, ...]] | None = None
    if model is None:
        spec = comparison
        # Each candidate pair is compared once: its levels fit the model, and the same
        # levels (or comparisons) are then weighed.
        if lazy:
            ends = [(p.left, p.right) for p in same_kind]
            vectors = level_vectors(items, ends, spec=spec)
        else:
            compared = [compare(items[p.left], items[p.right], spec=spec) for p in same_kind]
            vectors = [tuple(c.level for c in pair) for pair in compared]
        candidates = {(p.left, p.right) for p in same_kind}
        if population is None:
            population = pairs_of_one_kind(Counter(item.kind for item in items.values()))
        if population - len(candidates) <= sample_pairs:
            # few enough to compare every other pair: no sampling at all
            drawn: Iterable[tuple[str, str]] = itertools.combinations(sorted(ids), 2)
        else:
            drawn = random_pairs(ids, sample_pairs, seed=seed)
        others = [
            (a, b)
            for a, b in drawn
            if items[a].kind == items[b].kind and (min(a, b), max(a, b)) not in candidates
        ]
        sampled = level_vectors(items, others, spec=spec)
        if not (vectors or sampled):
            empty = cluster((), threshold=threshold)
            return DedupeResult(
                blocking=found.report,
                model=None,
                pairs=ExplainedPairs.built(()),
                clustering=empty,
            )
        if vectors:
            model = fit(vectors, spec=spec, random_vectors=sampled, population=population)
        else:
            model = fit(sampled, spec=spec)
    if lazy:
        explained = ExplainedPairs(items, same_kind, model, vectors=vectors)
        # clustering reads the pairs at or above the threshold, and those below it
        # inside the groups they make (which can keep two groups apart)
        grouped = cluster(
            explained.linked(threshold), threshold=threshold, not_duplicates=not_duplicates
        )
        return DedupeResult(blocking=found.report, model=model, pairs=explained, clustering=grouped)
    if vectors is not None:
        scored = tuple(
            explain_comparisons(p.left, p.right, pair, model, keys=p.keys)
            for p, pair in zip(same_kind, compared, strict=True)
        )
    else:
        scored = score_pairs(items, same_kind, model)
    grouped = cluster(scored, threshold=threshold, not_duplicates=not_duplicates)
    return DedupeResult(
        blocking=found.report,
        model=model,
        pairs=ExplainedPairs.built(scored),
        clustering=grouped,
    )

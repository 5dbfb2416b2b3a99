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
from collections.abc import Iterable, Sequence

import attrs

from crmcore.models import Customer
from crmcore.rules.dedupe._features import Features, features
from crmcore.rules.dedupe.blocking import BlockingReport, CandidatePair, candidate_pairs
from crmcore.rules.dedupe.cluster import Clustering, NotDuplicate, cluster
from crmcore.rules.dedupe.compare import DEFAULT_COMPARISON, ComparisonSpec, compare_levels
from crmcore.rules.dedupe.explain import PairExplanation, explain_pair
from crmcore.rules.dedupe.keys import DEFAULT_BLOCKING, BlockingSpec, feature_keys
from crmcore.rules.dedupe.model import MatchModel, fit

__all__ = ["DedupeResult", "find_duplicates", "random_pairs", "score_pairs"]


@attrs.frozen(kw_only=True)
class DedupeResult:
    """What a batch check found.

    Attributes:
        blocking: How the candidate pairs were found, and what the cap cut.
        model: The model the pairs were scored with (fitted here unless given);
            ``None`` when there was nothing to fit on (fewer than two customers
            of one kind).
        pairs: Every compared candidate pair, explained, by ``(left, right)``.
        clustering: The duplicate groups at the threshold.
    """

    blocking: BlockingReport
    model: MatchModel | None
    pairs: tuple[PairExplanation, ...]
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
    items: dict[str, Features], pairs: Iterable[CandidatePair], model: MatchModel
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
    items: dict[str, Features] = {}
    keyed: list[tuple[str, tuple[str, ...]]] = []
    for customer in customers:
        item = features(customer, region=blocking.region)
        keyed.append((customer.id, feature_keys(item, passes=blocking.passes)))
        items.setdefault(customer.id, item)
    found = candidate_pairs(keyed, max_block_size=blocking.max_block_size)
    same_kind = [p for p in found.pairs if items[p.left].kind == items[p.right].kind]
    if model is None:
        spec = comparison
        vectors = [compare_levels(items[p.left], items[p.right], spec=spec) for p in same_kind]
        candidates = {(p.left, p.right) for p in same_kind}
        kinds = Counter(item.kind for item in items.values())
        population = sum(n * (n - 1) // 2 for n in kinds.values())
        if population - len(candidates) <= sample_pairs:
            # few enough to compare every other pair: no sampling at all
            drawn: Iterable[tuple[str, str]] = itertools.combinations(sorted(items), 2)
        else:
            drawn = random_pairs(list(items), sample_pairs, seed=seed)
        sampled = [
            compare_levels(items[a], items[b], spec=spec)
            for a, b in drawn
            if items[a].kind == items[b].kind and (min(a, b), max(a, b)) not in candidates
        ]
        if not (vectors or sampled):
            empty = cluster((), threshold=threshold)
            return DedupeResult(blocking=found.report, model=None, pairs=(), clustering=empty)
        if vectors:
            model = fit(vectors, spec=spec, random_vectors=sampled, population=population)
        else:
            model = fit(sampled, spec=spec)
    scored = score_pairs(items, same_kind, model)
    grouped = cluster(scored, threshold=threshold, not_duplicates=not_duplicates)
    return DedupeResult(blocking=found.report, model=model, pairs=scored, clustering=grouped)

"""Duplicate detection on synthetic damaged customers: time, memory, pairs and accuracy.

Run on demand (not part of pytest)::

    PYTHONPATH=src python bench/bench_dedupe.py [--customers 10000] [--seed 1]
        [--threshold 0.9] [--max-block-size 100]

Builds ``--customers`` person records with the generator of the unit tests
(``tests/unit/dedupe/_synthetic.py``: about a third of the people have one to three
damaged copies: typos, swapped names, missing fields, reformatted and full-width
phones, new phone numbers, moves, swapped day and month, traditional characters or
pinyin for Chinese names), then times each step of ``crmcore.rules.dedupe`` in
memory, without labels:
features and blocking keys, candidate pairs, comparison vectors (candidates and
20,000 random pairs), the EM fit, scoring with explanations, clustering. Prints
wall time per step and in all, the peak resident memory of the process, the
candidate pairs and what the block cap cut, the share of true pairs among the
candidates (the recall blocking allows), and precision, recall and F1 of the
duplicate groups' pairs against the generator's truth. ``--json`` prints the same
as one JSON object.

A peer library (splink on DuckDB) is for a later run; it is not installed here.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "dedupe"))

from _synthetic import (  # type: ignore[import-not-found]  # noqa: E402
    generate,
    group_pairs,
    pair_scores,
    true_pairs,
)

from crmcore.rules.dedupe import (  # noqa: E402
    BlockingSpec,
    candidate_pairs,
    cluster,
    compare_levels,
    feature_keys,
    features,
    fit,
    random_pairs,
    score_pairs,
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(customers: int, *, seed: int, threshold: float, max_block_size: int) -> dict[str, Any]:
    """Build the data, run every step, and return the measurements."""
    people = int(customers / 1.4) + 1
    data = generate(people, seed=seed)
    records = data.customers[:customers]
    truth = true_pairs({r.id: data.truth[r.id] for r in records})
    spec = BlockingSpec(max_block_size=max_block_size)
    timings: dict[str, float] = {}

    def timed(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    t0 = start = time.perf_counter()
    items = {c.id: features(c, region=spec.region) for c in records}
    keyed = [(cid, feature_keys(item, passes=spec.passes)) for cid, item in items.items()]
    start = timed("features_and_keys", start)
    found = candidate_pairs(keyed, max_block_size=spec.max_block_size)
    start = timed("blocking", start)
    pairs = [p for p in found.pairs if items[p.left].kind == items[p.right].kind]
    vectors = [compare_levels(items[p.left], items[p.right]) for p in pairs]
    candidates = {(p.left, p.right) for p in pairs}
    sampled = [
        compare_levels(items[a], items[b])
        for a, b in random_pairs(list(items), 20_000)
        if (min(a, b), max(a, b)) not in candidates
    ]
    start = timed("comparison_vectors", start)
    population = len(items) * (len(items) - 1) // 2
    model = fit(vectors, random_vectors=sampled, population=population)
    start = timed("em_fit", start)
    scored = score_pairs(items, pairs, model)
    start = timed("scoring_and_explaining", start)
    grouped = cluster(scored, threshold=threshold)
    timed("clustering", start)
    total = round(time.perf_counter() - t0, 3)
    found_pairs = group_pairs(g.members for g in grouped.groups)
    precision, recall, f1 = pair_scores(found_pairs, truth)
    candidates = {(p.left, p.right) for p in pairs}
    return {
        "customers": len(records),
        "true_pairs": len(truth),
        "seconds": total,
        "steps": timings,
        "peak_rss_mib": round(_peak_mib(), 1),
        "candidate_pairs": found.report.candidate_pairs,
        "cut_blocks": len(found.report.cut),
        "cut_pairs": found.report.cut_pairs,
        "blocking_recall": round(len(candidates & truth) / len(truth), 5) if truth else 1.0,
        "em_iterations": model.iterations,
        "em_converged": model.converged,
        "prior": round(model.prior, 5),
        "groups": len(grouped.groups),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--max-block-size", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(
        args.customers,
        seed=args.seed,
        threshold=args.threshold,
        max_block_size=args.max_block_size,
    )
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()

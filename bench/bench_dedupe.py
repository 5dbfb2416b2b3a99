"""Duplicate detection on synthetic damaged customers: crmcore (memory, SQL) beside splink.

Run on demand (not part of pytest)::

    PYTHONPATH=src python bench/bench_dedupe.py [--customers 100000] [--seed 1]
        [--threshold 0.9] [--max-block-size 100] [--engines memory,sqlite,splink]
        [--mild] [--splink-python /tmp/splink-venv/bin/python] [--json]

Builds ``--customers`` person records with the generator of the unit tests
(``tests/unit/dedupe/_synthetic.py``), by default in its ``hard`` setting: about a
third of the people have one to three copies, each damaged two to four times (typos
in one or both names, swapped names, missing fields, no phone and no email at all,
reformatted and full-width phones, new phone numbers and email addresses, moves,
swapped day and month, traditional characters or pinyin for Chinese names);
``--mild`` uses the unit tests' setting (one to three damages, fewer kinds). Then,
without labels, on the same records in the same run:

``memory``
    every step of ``crmcore.rules.dedupe`` over the customers in memory, as
    ``find_duplicates`` runs them, timed step by step: features and blocking keys,
    candidate pairs, comparison vectors (each candidate pair once, and 20,000
    random pairs), the EM fit, weighing the pairs from their vectors and
    explaining those that clustering reads (``ExplainedPairs.linked``: those that
    reach the threshold, and those below it inside the groups they make), clustering.
``sqlite`` (``postgresql`` with ``CRMCORE_BENCH_POSTGRES_URL``, a database of its own)
    the customers imported into a new database with the ``@dedupe`` blocking keys
    declared (timed, beside an import of the same customers without them: the cost
    of the keys), then ``crmcore.storage.dedupe.find_duplicates`` on a store opened
    anew: blocking inside the database, then only the candidates' customers read.
``splink``
    splink on DuckDB (``bench/_bench_dedupe_splink.py``, run with
    ``--splink-python``: splink lives in its own environment, never in crmcore's)
    over the same records flattened to the values crmcore compares (romanised
    names, E.164 phones, folded emails, ids, postal codes, streets, birthdays).

Each engine reports wall time (generation and, for splink, loading the CSV left
out), the peak resident memory while it ran (the process's high-water mark reset
before it; splink's is its own process), the candidate pairs, and precision, recall
and F1 of the duplicate groups' pairs against the generator's truth.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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

from crmcore._collector import collector_paused  # noqa: E402
from crmcore.models import Customer  # noqa: E402
from crmcore.rules.dedupe import (  # noqa: E402
    BlockingSpec,
    ExplainedPairs,
    Features,
    candidate_pairs,
    cluster,
    feature_keys,
    features,
    fit,
    random_pairs,
)
from crmcore.rules.dedupe._text import initial  # noqa: E402
from crmcore.rules.dedupe.compare import level_vectors  # noqa: E402
from crmcore.storage import connect, dedupe  # noqa: E402

SPLINK_PYTHON = "/tmp/splink-venv/bin/python"


def _reset_peak() -> None:
    """Reset the process's resident high-water mark (Linux ``clear_refs``), if allowed."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _accuracy(groups: Any, truth: set[tuple[str, str]]) -> dict[str, Any]:
    found = group_pairs(g.members for g in groups)
    precision, recall, f1 = pair_scores(found, truth)
    return {
        "groups": len(groups),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def run_memory(
    records: list[Customer], truth: set[tuple[str, str]], threshold: float, spec: BlockingSpec
) -> dict[str, Any]:
    """Every step of the pure pipeline over customers in memory."""
    timings: dict[str, float] = {}

    def timed(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    _reset_peak()
    # the collector paused as find_duplicates pauses it (a fast path)
    with collector_paused():
        t0 = start = time.perf_counter()
        items = {c.id: features(c, region=spec.region) for c in records}
        keyed = [(cid, feature_keys(item, passes=spec.passes)) for cid, item in items.items()]
        start = timed("features_and_keys", start)
        found = candidate_pairs(keyed, max_block_size=spec.max_block_size)
        start = timed("blocking", start)
        pairs = [p for p in found.pairs if items[p.left].kind == items[p.right].kind]
        # in one batch, as resolve_candidates compares them (a fast path)
        vectors = level_vectors(items, [(p.left, p.right) for p in pairs])
        candidates = {(p.left, p.right) for p in pairs}
        sampled = level_vectors(
            items,
            [
                (a, b)
                for a, b in random_pairs(list(items), 20_000)
                if (min(a, b), max(a, b)) not in candidates
            ],
        )
        start = timed("comparison_vectors", start)
        population = len(items) * (len(items) - 1) // 2
        model = fit(vectors, random_vectors=sampled, population=population)
        start = timed("em_fit", start)
        scored = ExplainedPairs(items, pairs, model, vectors=vectors)
        linked = scored.linked(threshold)
        start = timed("scoring_and_explaining", start)
        grouped = cluster(linked, threshold=threshold)
        timed("clustering", start)
    seconds = round(time.perf_counter() - t0, 3)
    candidates = {(p.left, p.right) for p in pairs}
    return {
        "engine": "crmcore memory",
        "seconds": seconds,
        "steps": timings,
        "peak_rss_mib": _peak_mib(),
        "candidate_pairs": found.report.candidate_pairs,
        "cut_blocks": len(found.report.cut),
        "cut_pairs": found.report.cut_pairs,
        "blocking_recall": round(len(candidates & truth) / len(truth), 5) if truth else 1.0,
        "em_iterations": model.iterations,
        "em_converged": model.converged,
        "prior": round(model.prior, 5),
        **_accuracy(grouped.groups, truth),
    }


def _import(url: str, records: list[Customer], indexes: list[str]) -> float:
    start = time.perf_counter()
    with connect(url, normaliser=None, indexes=indexes) as store:
        report = store.import_customers(records, batch_size=2000)
    assert report.rejected == 0, report
    return round(time.perf_counter() - start, 3)


def run_sql(
    name: str,
    url: str,
    plain_url: str,
    records: list[Customer],
    truth: set[tuple[str, str]],
    threshold: float,
    spec: BlockingSpec,
) -> dict[str, Any]:
    """Import with and without the ``@dedupe`` keys, then find the duplicates in place."""
    keyed_import = _import(url, records, ["@dedupe"])
    plain_import = _import(plain_url, records, [])
    _reset_peak()
    start = time.perf_counter()
    with connect(url, normaliser=None) as store:
        blocked = dedupe.candidates(store, spec)
        blocking = round(time.perf_counter() - start, 3)
        result = dedupe.find_duplicates(store, threshold=threshold, blocking=spec)
    seconds = round(time.perf_counter() - start - blocking, 3)
    return {
        "engine": f"crmcore {name}",
        "seconds": seconds,
        "steps": {"blocking_in_database_alone": blocking},
        "peak_rss_mib": _peak_mib(),
        "import_seconds_with_dedupe_keys": keyed_import,
        "import_seconds_without": plain_import,
        "candidate_pairs": result.blocking.candidate_pairs,
        "same_candidates_as_blocking_alone": blocked.report == result.blocking,
        "cut_blocks": len(result.blocking.cut),
        **_accuracy(result.clustering.groups, truth),
    }


def _flat(item: Features, truth: int) -> dict[str, str]:
    """One row for splink: the normalised values crmcore compares."""
    row = {"unique_id": item.customer_id, "truth": str(truth)}
    form = item.names[0] if item.names else None
    tokens = form.tokens if form else ()
    row["first_name"] = form.roman_given if form else ""
    row["surname"] = form.roman_family if form else ""
    row["first_initial"] = initial(row["first_name"]) if row["first_name"] else ""
    row["surname_initial"] = initial(row["surname"]) if row["surname"] else ""
    row["name_key"] = " ".join(tokens)
    row["initials"] = "".join(sorted(initial(t) for t in tokens))
    day = item.birthday
    row["dob"] = day.isoformat() if day else ""
    row["birth_year"] = str(day.year) if day else ""
    low, high = sorted((day.month, day.day)) if day else (0, 0)
    row["birth_sorted"] = f"{day.year}-{low:02d}-{high:02d}" if day else ""
    row["phone"] = min(item.phones, default="")
    row["email"] = min(item.emails, default="")
    row["national_id"] = next((v for k, v in sorted(item.identifiers) if k == "national_id"), "")
    address = item.addresses[0] if item.addresses else None
    row["postcode"] = f"{address.country}:{address.postal_code}" if address else ""
    row["street"] = address.street if address else ""
    row["gender"] = item.gender or ""
    return row


def run_splink(
    records: list[Customer], data_truth: dict[str, int], threshold: float, python: str
) -> dict[str, Any]:
    """Write the flattened rows and run splink in its own environment."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer: csv.DictWriter[str] | None = None
            for customer in records:
                row = _flat(features(customer), data_truth[customer.id])
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
        script = str(ROOT / "bench" / "_bench_dedupe_splink.py")
        done = subprocess.run(
            [python, script, str(path), "--threshold", str(threshold)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        return {"engine": "splink", "error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(
    customers: int,
    *,
    seed: int,
    threshold: float,
    max_block_size: int,
    engines: list[str],
    hard: bool = True,
    splink_python: str = SPLINK_PYTHON,
) -> dict[str, Any]:
    """Build the data, run every engine, and return the measurements."""
    start = time.perf_counter()
    people = int(customers / 1.4) + 1
    data = generate(people, seed=seed, hard=hard)
    records = list(data.customers[:customers])
    truth_of = {r.id: data.truth[r.id] for r in records}
    truth = true_pairs(truth_of)
    spec = BlockingSpec(max_block_size=max_block_size)
    out: dict[str, Any] = {
        "customers": len(records),
        "true_pairs": len(truth),
        "generator": "hard" if hard else "mild",
        "generation_seconds": round(time.perf_counter() - start, 3),
        "engines": [],
    }
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "memory": lambda: run_memory(records, truth, threshold, spec),
        "splink": lambda: run_splink(records, truth_of, threshold, splink_python),
    }
    with tempfile.TemporaryDirectory() as tmp:
        runs["sqlite"] = lambda: run_sql(
            "sqlite",
            f"sqlite:///{tmp}/keyed.db",
            f"sqlite:///{tmp}/plain.db",
            records,
            truth,
            threshold,
            spec,
        )
        pg = os.environ.get("CRMCORE_BENCH_POSTGRES_URL")
        pg_plain = os.environ.get("CRMCORE_BENCH_POSTGRES_PLAIN_URL")
        if pg and pg_plain:
            runs["postgresql"] = lambda: run_sql(
                "postgresql", pg, pg_plain, records, truth, threshold, spec
            )
        for engine in engines:
            if engine not in runs:
                out["engines"].append({"engine": engine, "error": "not available"})
                continue
            result = runs[engine]()
            out["engines"].append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    return out


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--max-block-size", type=int, default=100)
    parser.add_argument("--engines", default="memory,sqlite,splink")
    parser.add_argument("--mild", action="store_true")
    parser.add_argument("--splink-python", default=SPLINK_PYTHON)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(
        args.customers,
        seed=args.seed,
        threshold=args.threshold,
        max_block_size=args.max_block_size,
        engines=args.engines.split(","),
        hard=not args.mild,
        splink_python=args.splink_python,
    )
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        if key != "engines":
            print(f"{key:>20}: {value}")
    for engine in result["engines"]:
        print()
        for key, value in engine.items():
            print(f"{key:>32}: {value}")


if __name__ == "__main__":
    main()

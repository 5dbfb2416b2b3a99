"""Benchmark: a verified import on one worker and on a pool (``import_customers(workers=)``).

Run on demand (not collected by pytest)::

    PYTHONPATH=src python bench/bench_import.py --rows 200000 --workers 1,2 \
        --targets sqlite-file,postgresql

Each run imports ``--rows`` customer mappings, made lazily by a generator (a feed as
a parser yields it: Chinese and Latin names, phones typed with spaces or full-width
digits, e-mails, addresses, tags; about 1% of the rows fail verification) into a
fresh store with the verification pipeline (``default_region="CN"``) and history on,
outcomes streamed to a callback. Targets: ``sqlite-file`` (a new file in a temporary
directory), ``sqlite-memory`` (``sqlite:///:memory:``), ``memory`` (``memory://``) and
``postgresql`` (a fresh schema on ``--postgres``, default ``$CRMCORE_TEST_POSTGRES_URL``)
and ``mariadb`` (a fresh database on ``--mysql``, default ``$CRMCORE_TEST_MYSQL_URL``).
With ``--ids feed`` (the default) every row carries its own random id, as a source
system's keys would; with ``--ids new`` rows carry none and crmcore mints them (its
time-ordered ids).

For every target and worker count it reports the wall time, rows per second, the
speed-up over one worker, and the CPU time used: user and system time of the
importing process, and of its worker processes (including starting them), with the
load average before and after, because the machine may be shared. Every run must
give the same counts as one worker; the benchmark fails otherwise. The generator's
own time is measured separately (``feed only``): it is part of every import's time.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import ImportOutcome, ImportStatus, connect

FAMILY = ["王", "李", "张", "刘", "陈", "杨", "黄", "欧阳", "Schmidt", "García", "Smith"]
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "Anna", "José", "Emily"]
CITIES = [
    ("北京市", "北京", "海淀区"),
    ("上海市", "上海", "浦东新区"),
    ("广东省", "深圳", "南山区"),
    ("四川省", "成都", "武侯区"),
]
TAGS = ["vip", "北京", "newsletter", "wholesale", "会员"]
STAGES = ["suspect", "prospect", "first_time", "repeat", "member"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TARGETS = {
    "sqlite-file": None,  # a new file per run
    "sqlite-memory": "sqlite:///:memory:",
    "memory": "memory://",
}


def feed(count: int, *, seed: int = 11, ids: bool = True) -> Iterator[dict[str, Any]]:
    """Yield ``count`` customer mappings as a feed would give them (deterministic).

    With ``ids`` each row has a random id of its own; without, crmcore mints them.
    """
    rng = random.Random(seed)
    for i in range(count):
        family, given = rng.choice(FAMILY), rng.choice(GIVEN)
        number = f"138 {i % 10000:04d} {rng.randrange(10000):04d}"
        given_id = f"{rng.getrandbits(128):032x}"
        row: dict[str, Any] = {
            **({"id": given_id} if ids else {}),
            "kind": "person",
            "display_name": f"{family}{given}",
            "person": {"name": {"family": family, "given": given}},
            "lifecycle_stage": STAGES[i % len(STAGES)],
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "phones": [{"number": number.translate(FULL_WIDTH) if i % 3 == 0 else number}],
            "emails": [{"address": f"User{i}@Example.CN"}],
        }
        if i % 2:
            region, city, district = rng.choice(CITIES)
            row["addresses"] = [
                {
                    "country": "CN",
                    "region": region,
                    "city": city,
                    "district": district,
                    "street_lines": [f"中关村大街{i % 200}号"],
                }
            ]
        if i % 100 == 7:
            row["emails"] = [{"address": "not an address"}]  # refused by verification
        yield row


def cpu() -> tuple[float, float, float, float]:
    """User and system CPU seconds of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime, me.ru_stime, children.ru_utime, children.ru_stime


def run(url: str, rows: int, workers: int, batch: int, *, ids: bool) -> dict[str, Any]:
    """Import ``rows`` customers into a new store at ``url``; the timings and counts."""
    counts = dict.fromkeys(ImportStatus, 0)

    def count(outcome: ImportOutcome) -> None:
        counts[outcome.status] += 1

    with connect(url, normaliser=NormalisationPipeline(default_region="CN")) as store:
        load = os.getloadavg()[0]
        before = cpu()
        start = time.perf_counter()
        records = feed(rows, ids=ids)
        store.import_customers(records, batch_size=batch, workers=workers, on_outcome=count)
        wall = time.perf_counter() - start
        after = cpu()
    used = [b - a for a, b in zip(before, after, strict=True)]
    return {
        "wall": wall,
        "user": used[0],
        "sys": used[1],
        "workers_user": used[2],
        "workers_sys": used[3],
        "load": (load, os.getloadavg()[0]),
        "counts": {status.value: n for status, n in counts.items()},
    }


def main() -> None:
    """Run every target with every worker count; print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--targets", default="sqlite-file,sqlite-memory")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CRMCORE_TEST_POSTGRES_URL"),
        help="PostgreSQL URL of the postgresql target (default: $CRMCORE_TEST_POSTGRES_URL)",
    )
    parser.add_argument(
        "--mysql",
        default=os.environ.get("CRMCORE_TEST_MYSQL_URL"),
        help="MariaDB/MySQL URL of the mariadb target (default: $CRMCORE_TEST_MYSQL_URL)",
    )
    parser.add_argument(
        "--ids",
        choices=["feed", "new"],
        default="feed",
        help="feed: every row has its own random id; new: none, crmcore mints them",
    )
    args = parser.parse_args()
    given_ids = args.ids == "feed"
    worker_counts = [int(w) for w in args.workers.split(",")]
    print(f"{args.rows:,} customers, ids {args.ids}, batch {args.batch}, ", end="")
    print(f"cpus {os.cpu_count()}, ", end="")
    start = time.perf_counter()
    for _ in feed(args.rows, ids=given_ids):
        pass
    print(f"feed only {time.perf_counter() - start:.2f} s")
    header = "target          workers   wall s   rows/s  speed-up   user s  sys s"
    print(header + "  workers' user s  sys s  load avg before/after  counts")
    failed = False
    for target in args.targets.split(","):
        first: dict[str, Any] | None = None
        for workers in worker_counts:
            if target == "postgresql":
                from bench_storage import Database

                with Database("postgresql", args.postgres) as url:
                    result = run(url, args.rows, workers, args.batch, ids=given_ids)
            elif target == "mariadb":
                from bench_queries import fresh_database

                with fresh_database("mysql", args.mysql) as url:
                    result = run(url, args.rows, workers, args.batch, ids=given_ids)
            else:
                with tempfile.TemporaryDirectory() as directory:
                    url = TARGETS[target] or f"sqlite:///{Path(directory) / 'crm.db'}"
                    result = run(url, args.rows, workers, args.batch, ids=given_ids)
            first = first or result
            if result["counts"] != first["counts"]:
                failed = True
            print(
                f"{target:<15} {workers:>7} {result['wall']:>8.2f} "
                f"{args.rows / result['wall']:>8,.0f} {first['wall'] / result['wall']:>8.2f}x "
                f"{result['user']:>8.2f} {result['sys']:>6.2f} {result['workers_user']:>16.2f} "
                f"{result['workers_sys']:>6.2f}  {result['load'][0]:>9.2f} / "
                f"{result['load'][1]:<9.2f}  {result['counts']}",
                flush=True,
            )
    if failed:
        sys.exit("the counts differ between worker counts")


if __name__ == "__main__":
    main()

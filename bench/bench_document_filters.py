"""Filters on paths that are neither key columns nor indexed: the document in SQL vs Python.

Loads N generated customers (``bench._bench_queries_data.customer_at``, organisations
with a registered capital, a fifth with notes) once, then times ``count`` and a first
page of 20 for each filter kind. Run it with this tree and with an older one on
``PYTHONPATH`` against the same database (``--skip-load``), alternating, to compare
the document compiled to JSON SQL with the Python post-filter it replaces::

    python bench/bench_document_filters.py load sqlite:////tmp/doc.db --customers 20000
    python bench/bench_document_filters.py time sqlite:////tmp/doc.db --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from decimal import Decimal

import attrs
from _bench_queries_data import customer_at

from crmcore.models import Customer, Money
from crmcore.query import AnyFilter, Field, Query, Reachable
from crmcore.storage.sqlalchemy import create_backend

FILTERS: dict[str, AnyFilter] = {
    "capital > 5e6": Field("organisation.registered_capital.amount") > Decimal("5000000"),
    "notes starts_with": Field("notes").starts_with("VIP follow-up"),
    "phone verified": Field("phones.verified") == True,  # noqa: E712
    "reachable sms": Reachable(channel="sms"),
}


def customer(i: int) -> Customer:
    """The ``i``-th benchmark customer, with a capital (organisations) and sometimes notes."""
    c = customer_at(i)
    if c.organisation is not None:
        capital = Money(amount=Decimal(i * 997 % 10_000_000) / 100 * 100, currency="CNY")
        c = attrs.evolve(c, organisation=attrs.evolve(c.organisation, registered_capital=capital))
    if i % 5 == 0:
        c = attrs.evolve(c, notes=("VIP follow-up " if i % 10 == 0 else "called ") + str(i))
    return c


def load(url: str, count: int) -> None:
    """Write ``count`` customers in batches of 1,000."""
    backend = create_backend(url)
    for start in range(0, count, 1000):
        t = backend.begin()
        t.insert("customer", [customer(i) for i in range(start, min(count, start + 1000))])
        t.commit()
    backend.close()


def run(url: str, repeat: int) -> dict[str, dict[str, float]]:
    """The best and median seconds of ``count`` and of a first page, per filter."""
    backend = create_backend(url)
    results: dict[str, dict[str, float]] = {}
    for name, where in FILTERS.items():
        query = Query(where=where, order_by=("display_name",), limit=20)
        counts, pages = [], []
        for _ in range(repeat):
            t = backend.begin()
            start = time.perf_counter()
            total = t.count("customer", Query(where=where))
            counts.append(time.perf_counter() - start)
            start = time.perf_counter()
            t.query("customer", query)
            pages.append(time.perf_counter() - start)
            t.rollback()
        results[name] = {
            "matches": total,
            "count_best": min(counts),
            "count_median": statistics.median(counts),
            "page_best": min(pages),
            "page_median": statistics.median(pages),
        }
    backend.close()
    return results


def main() -> None:
    """Command line: ``load URL --customers N`` or ``time URL --repeat R``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["load", "time"])
    parser.add_argument("url")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.mode == "load":
        load(args.url, args.customers)
    else:
        print(json.dumps(run(args.url, args.repeat)))


if __name__ == "__main__":
    main()

"""One store over every backend (memory, SQLite, PostgreSQL, MariaDB) for the store tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from tests.conftest import SQL_DIALECTS

from crmcore.models import Customer, Purchase
from crmcore.storage import Store, connect

BACKENDS = ["memory", *SQL_DIALECTS]
"""Parameters for a fixture opening a store on every backend."""

FIXED = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
"""The time a fixed clock gives: every write of a test happens at the same instant."""


def open_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str], **options: Any
) -> Iterator[Store]:
    """Yield a store on the backend named by ``request.param``, closed afterwards."""
    with connect(_url(request, sql_database), **options) as opened:
        yield opened


def _url(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> str:
    dialect = str(request.param)
    return "memory://" if dialect == "memory" else sql_database(dialect)


def purchase_stores(
    request: pytest.FixtureRequest,
    sql_database: Callable[[str], str],
    customers: Sequence[str],
) -> Iterator[Callable[[list[Purchase]], Store]]:
    """Yield ``make(purchases)``: a new store on ``request.param``'s backend holding them.

    Each store holds a person customer (``客`` and the id) per id of ``customers`` and
    the purchases, none rejected; a call closes the previous store, the end closes all.
    The store has no normaliser, so purchases are kept exactly as given.
    """
    opened: list[Store] = []

    def make(purchases: list[Purchase]) -> Store:
        while opened:
            opened.pop().close()
        store = connect(_url(request, sql_database), normaliser=None)
        opened.append(store)
        store.import_customers(
            [Customer.person_named(family="客", given=cid, id=cid) for cid in customers]
        )
        report = store.import_records("purchase", purchases)
        assert report.rejected == 0, report
        return store

    try:
        yield make
    finally:
        for store in opened:
            store.close()

"""One store over every backend (memory, SQLite, PostgreSQL, MariaDB) for the store tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.conftest import SQL_DIALECTS

from crmcore.storage import Store, connect

BACKENDS = ["memory", *SQL_DIALECTS]
"""Parameters for a fixture opening a store on every backend."""

FIXED = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
"""The time a fixed clock gives: every write of a test happens at the same instant."""


def open_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str], **options: Any
) -> Iterator[Store]:
    """Yield a store on the backend named by ``request.param``, closed afterwards."""
    dialect = str(request.param)
    url = "memory://" if dialect == "memory" else sql_database(dialect)
    with connect(url, **options) as opened:
        yield opened

"""Rows handed to the driver as positional tuples are stored exactly as Core would bind them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from sqlalchemy import create_engine, select

from crmcore.models import Customer
from crmcore.storage.sqlalchemy import SqlBackend
from crmcore.storage.sqlalchemy._rows import (
    COLUMNS,
    compiled_insert,
    driver_ready,
    record_row,
)
from crmcore.storage.sqlalchemy._schema import HISTORY, INDEX, TABLES
from crmcore.testing.data import sample_customers

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _stamped() -> list[Customer]:
    return [attrs.evolve(c, version=1, created_at=T0, updated_at=T0) for c in sample_customers()]


def _stored(backend: SqlBackend) -> dict[str, dict[str, Any]]:
    table = TABLES["customer"]
    with backend.engine.connect() as connection:
        return {row.id: dict(row._mapping) for row in connection.execute(select(table)).all()}


def test_inserted_customer_rows_are_the_rows_core_would_bind(sql_backend: SqlBackend) -> None:
    customers = _stamped()
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    stored = _stored(sql_backend)
    assert stored == {c.id: record_row("customer", c) for c in customers}


def test_pymysql_gets_a_positional_insert_in_column_order() -> None:
    engine = create_engine("mysql+pymysql://user@localhost/none")
    columns = COLUMNS["customer"]

    class _Conn:
        dialect = engine.dialect

    sql = compiled_insert(_Conn(), TABLES["customer"], columns)  # type: ignore[arg-type]
    assert sql.endswith("VALUES (" + ", ".join(["%s"] * len(columns)) + ")")
    assert "(id, version, kind" in sql
    # the engine's own dialect still binds by name
    assert engine.dialect.paramstyle == "pyformat"


@pytest.mark.parametrize(
    ("table", "ready"),
    [(TABLES["customer"], True), (INDEX, True), (HISTORY, True), (TABLES["interaction"], False)],
)
def test_only_tables_without_bind_processing_skip_core_on_mariadb(table: Any, ready: bool) -> None:
    engine = create_engine("mysql+pymysql://user@localhost/none")

    class _Conn:
        dialect = engine.dialect

    assert driver_ready(_Conn(), table) is ready  # type: ignore[arg-type]

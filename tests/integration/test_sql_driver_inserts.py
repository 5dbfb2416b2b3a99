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
    ROW_READY_DRIVERS,
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


class _DialectOnly:
    """What compiled_insert and driver_ready read of a connection: its dialect."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect


def _mysql_dialects() -> dict[str, Any]:
    from sqlalchemy.dialects.mysql.mariadbconnector import MySQLDialect_mariadbconnector
    from sqlalchemy.dialects.mysql.mysqlconnector import MySQLDialect_mysqlconnector
    from sqlalchemy.dialects.mysql.mysqldb import MySQLDialect_mysqldb

    # the dialects alone: their drivers need not be installed to decide
    return {
        "mysqldb": MySQLDialect_mysqldb(),
        "mariadbconnector": MySQLDialect_mariadbconnector(),
        "mysqlconnector": MySQLDialect_mysqlconnector(),
    }


@pytest.mark.parametrize("driver", ["mysqldb", "mariadbconnector", "mysqlconnector"])
@pytest.mark.parametrize("table", [TABLES["customer"], INDEX, HISTORY, TABLES["interaction"]])
def test_a_mysql_driver_other_than_pymysql_takes_cores_insert(driver: str, table: Any) -> None:
    """driver_ready decides by the driver: another MySQL driver keeps Core's insert()."""
    pymysql = create_engine("mysql+pymysql://user@localhost/none").dialect
    driver_ready(_DialectOnly(pymysql), table)  # type: ignore[arg-type]  # cached first
    dialect = _mysql_dialects()[driver]
    assert (dialect.name, dialect.driver) == ("mysql", driver)
    assert driver_ready(_DialectOnly(dialect), table) is False  # type: ignore[arg-type]


def test_the_positional_insert_follows_the_drivers_parameter_style() -> None:
    """After PyMySQL's %s statement, a qmark driver of the same dialect gets its own ? one."""
    columns = COLUMNS["customer"]
    pymysql = create_engine("mysql+pymysql://user@localhost/none").dialect
    first = compiled_insert(_DialectOnly(pymysql), TABLES["customer"], columns)  # type: ignore[arg-type]
    assert first.endswith("VALUES (" + ", ".join(["%s"] * len(columns)) + ")")
    mariadb = _mysql_dialects()["mariadbconnector"]
    assert mariadb.paramstyle == "qmark"
    sql = compiled_insert(_DialectOnly(mariadb), TABLES["customer"], columns)  # type: ignore[arg-type]
    assert sql.endswith("VALUES (" + ", ".join(["?"] * len(columns)) + ")")


def test_sqlite_and_pymysql_are_the_drivers_whose_rows_go_as_they_are() -> None:
    """The drivers proven to store crmcore's rows unchanged are pysqlite and PyMySQL."""
    sqlite = create_engine("sqlite://").dialect
    pymysql = create_engine("mysql+pymysql://user@localhost/none").dialect
    assert driver_ready(_DialectOnly(sqlite), TABLES["interaction"]) is True  # type: ignore[arg-type]
    assert driver_ready(_DialectOnly(pymysql), TABLES["customer"]) is True  # type: ignore[arg-type]
    assert {name: set(drivers) for name, drivers in ROW_READY_DRIVERS.items()} == {
        "sqlite": {"pysqlite"},
        "mysql": {"pymysql"},
        "mariadb": {"pymysql"},
    }


def test_the_generic_path_stores_the_same_rows(
    sql_backend: SqlBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver not proven (here: every driver) writes through Core the rows Core would bind."""
    from crmcore.storage.sqlalchemy import _rows

    monkeypatch.setattr(_rows, "ROW_READY_DRIVERS", {})
    monkeypatch.setattr(_rows, "_READY", {})
    customers = _stamped()
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    assert _stored(sql_backend) == {c.id: record_row("customer", c) for c in customers}
    assert not any(_rows._READY.values())

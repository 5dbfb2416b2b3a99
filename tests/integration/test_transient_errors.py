"""Errors a retry may cure are TransientStorageError, provoked for real on every database."""

from __future__ import annotations

import importlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from crmcore.errors import StorageError, TransientStorageError
from crmcore.models import Customer
from crmcore.storage.sqlalchemy import SqlBackend, create_backend, make_engine
from crmcore.storage.sqlalchemy._engine import is_memory_sqlite
from crmcore.storage.sqlalchemy._transient import is_transient

pymysql: Any = importlib.import_module("pymysql")  # PyMySQL ships no type stubs

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

_SHORT_WAIT = {
    "sqlite": "PRAGMA busy_timeout = 100",
    "postgresql": "SET SESSION lock_timeout = '300ms'",
    "mysql": "SET SESSION innodb_lock_wait_timeout = 1",
}


def _short_lock_wait(dialect: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_SHORT_WAIT[dialect])
        finally:
            cursor.close()
        if dialect != "sqlite":
            dbapi_connection.commit()

    return on_connect


@pytest.fixture
def backends(
    sql_database: Callable[[str], str], request: pytest.FixtureRequest
) -> Iterator[tuple[SqlBackend, SqlBackend]]:
    """A backend holding locks, and one on the same database that waits for locks briefly."""
    dialect: str = request.param
    url = sql_database(dialect)
    holder = create_backend(url)
    engine = make_engine(url)
    event.listen(engine, "connect", _short_lock_wait(dialect))
    waiter = SqlBackend(engine)
    yield holder, waiter
    waiter.close()
    holder.close()


def _stored(backend: SqlBackend, *names: str) -> list[Customer]:
    records = [Customer.person_named(family="张", given=n, version=1) for n in names]
    tx = backend.begin()
    tx.insert("customer", records)
    tx.commit()
    return records


@pytest.mark.parametrize("backends", SQL_DIALECTS, indirect=True)
def test_a_lock_wait_timeout_is_transient(backends: tuple[SqlBackend, SqlBackend]) -> None:
    """Waiting too long for another transaction's lock raises TransientStorageError."""
    holder, waiter = backends
    [record] = _stored(holder, "伟")
    locking = holder.begin()
    locking.update("customer", attrs.evolve(record, version=2, grade="A"), expected_version=1)
    blocked = waiter.begin()
    try:
        with pytest.raises(TransientStorageError) as info:
            blocked.update(
                "customer", attrs.evolve(record, version=2, grade="B"), expected_version=1
            )
        assert info.value.code == "storage.transient"
        assert isinstance(info.value, StorageError)
        assert is_transient(info.value.__cause__)  # type: ignore[arg-type]
    finally:
        blocked.rollback()
        locking.rollback()
    tx = waiter.begin()  # the waiter works again once the lock is gone
    tx.update("customer", attrs.evolve(record, version=2, grade="C"), expected_version=1)
    tx.commit()


@pytest.mark.parametrize(
    "backends",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
    indirect=True,
)
def test_a_deadlock_victim_gets_a_transient_error(
    backends: tuple[SqlBackend, SqlBackend],
) -> None:
    """Two transactions locking two rows in opposite orders: one is a deadlock victim."""
    holder, _ = backends
    first, second = _stored(holder, "甲", "乙")
    both_locked = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def worker(name: str, mine: Customer, theirs: Customer) -> None:
        tx = holder.begin()
        try:
            tx.update("customer", attrs.evolve(mine, version=2, owner=name), expected_version=1)
            both_locked.wait()
            tx.update("customer", attrs.evolve(theirs, version=2, owner=name), expected_version=1)
            tx.commit()
            outcomes[name] = "ok"
        except TransientStorageError:
            outcomes[name] = "transient"
        except Exception as error:  # pragma: no cover - reported below
            outcomes[name] = repr(error)
        finally:
            tx.rollback()

    threads = [
        threading.Thread(target=worker, args=("a", first, second)),
        threading.Thread(target=worker, args=("b", second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["ok", "transient"], outcomes


def test_driver_errors_are_classified_by_class_and_code() -> None:
    """Deadlocks, lock timeouts, lost connections and busy files are transient; others not."""
    transient = [
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"),
        pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock"),
        pymysql.err.OperationalError(2006, "MySQL server has gone away"),
        pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
        sqlite3.OperationalError("database is locked"),
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ]
    permanent = [
        psycopg.errors.UniqueViolation("duplicate key"),
        psycopg.errors.UndefinedTable("relation does not exist"),
        pymysql.err.IntegrityError(1062, "Duplicate entry"),
        pymysql.err.OperationalError(1054, "Unknown column"),
        sqlite3.OperationalError("no such table: customer"),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        DBAPIError("SELECT 1", {}, sqlite3.OperationalError("no such table: x")),
        ValueError("not a driver error"),
    ]
    assert [is_transient(e) for e in transient] == [True] * len(transient)
    assert [is_transient(e) for e in permanent] == [False] * len(permanent)


@pytest.mark.parametrize(
    ("url", "in_memory"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite:///file::memory:?cache=shared&uri=true", True),
        ("sqlite:///file:crm?mode=memory&cache=shared&uri=true", True),
        ("sqlite:///crm.db", False),
        ("sqlite:////tmp/memory.db", False),
        ("postgresql://localhost/test", False),
    ],
)
def test_one_rule_says_which_sqlite_urls_are_in_memory(url: str, in_memory: bool) -> None:
    """is_memory_sqlite decides for the engine, the capabilities and the CLI alike."""
    assert is_memory_sqlite(url) is in_memory
    if url.startswith("sqlite"):
        backend = SqlBackend(make_engine(url))
        try:
            expected = not in_memory
            assert backend.capabilities.persistent is expected
            assert backend.capabilities.concurrent_writers is expected
        finally:
            backend.close()

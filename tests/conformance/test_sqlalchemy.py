"""The conformance kit run against the SQLAlchemy backend on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from crmcore.storage.ports import Backend
from crmcore.storage.sqlalchemy import SqlBackend, create_backend
from crmcore.testing import StoreConformance, TransactionTests

C = TypeVar("C", bound=type)


def own_hypothesis_tests(cls: C) -> C:
    """Give ``cls`` its own copy of each inherited Hypothesis test.

    Hypothesis refuses one ``@given`` method run from instances of several classes
    (``HealthCheck.differing_executors``); the kit's tests are shared by the three
    classes below, so each class calls them through a thin wrapper of its own.
    """
    for name in dir(cls):
        test = getattr(cls, name)
        if name.startswith("test_") and hasattr(test, "hypothesis"):

            def delegate(test: Any) -> Any:
                @functools.wraps(test)
                def run(self: object, *args: object, **kwargs: object) -> object:
                    return test(self, *args, **kwargs)

                return run

            setattr(cls, name, delegate(test))
    return cls


class SqlFixtures:
    """A fresh, empty, migrated database per test, of the class's ``dialect``."""

    dialect = "sqlite"

    @pytest.fixture
    def backend(self, sql_database: Callable[[str], str]) -> Iterator[Backend]:
        backend = create_backend(sql_database(self.dialect))
        yield backend
        backend.close()

    def reopen(self, backend: Backend) -> Backend:
        """Close the backend and open the same database again."""
        assert isinstance(backend, SqlBackend)
        url = backend.engine.url.render_as_string(hide_password=False)
        backend.close()
        return create_backend(url)


@own_hypothesis_tests
class TestSQLite(SqlFixtures, StoreConformance):
    """SQLite (a file per test) passes the whole kit."""

    dialect = "sqlite"


@pytest.mark.postgres
@own_hypothesis_tests
class TestPostgreSQL(SqlFixtures, StoreConformance):
    """PostgreSQL (psycopg 3) passes the whole kit."""

    dialect = "postgresql"


@pytest.mark.mysql
@own_hypothesis_tests
class TestMariaDB(SqlFixtures, StoreConformance):
    """MariaDB/MySQL (PyMySQL) passes the whole kit."""

    dialect = "mysql"


class TestSQLiteInMemory(TransactionTests):
    """In-memory SQLite (one shared connection, transactions take turns) passes the SPI tests."""

    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        backend = create_backend("sqlite://")
        yield backend
        backend.close()

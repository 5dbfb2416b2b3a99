"""Shared fixtures: real database servers for the SQL storage tests.

PostgreSQL and MariaDB/MySQL tests read ``CRMCORE_TEST_POSTGRES_URL`` and
``CRMCORE_TEST_MYSQL_URL``. Without them the tests skip with a visible reason; with
``CRMCORE_REQUIRE_SERVERS=1`` a missing variable or an unreachable server fails them.

Each test session works in its own PostgreSQL schema and its own MariaDB database,
created at start and dropped at the end, so parallel runs and other users of the
server's ``test`` database are not disturbed; tables are emptied between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from crmcore.storage.sqlalchemy import SqlBackend

POSTGRES_ENV = "CRMCORE_TEST_POSTGRES_URL"
MYSQL_ENV = "CRMCORE_TEST_MYSQL_URL"
REQUIRE_ENV = "CRMCORE_REQUIRE_SERVERS"


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def _server_url(env: str, what: str) -> URL:
    raw = os.environ.get(env, "").strip()
    if not raw:
        _unavailable(f"{what} tests need {env} (e.g. {_EXAMPLES[env]})")
    from crmcore.storage.sqlalchemy import normalise_url

    return normalise_url(raw)


_EXAMPLES = {
    POSTGRES_ENV: "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    MYSQL_ENV: "mysql+pymysql://root@127.0.0.1:3306/test",
}


def _admin_engine(url: URL, what: str) -> Engine:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        engine.dispose()
        _unavailable(f"{what} server at {url.render_as_string()} unreachable: {error}")
    return engine


class ServerSpace:
    """A private PostgreSQL schema or MariaDB database for tests, on a real server."""

    def __init__(self, admin: Engine, base: URL, dialect: str) -> None:
        self.admin = admin
        self.base = base
        self.dialect = dialect
        self.created: list[str] = []

    def new(self) -> str:
        """Create a fresh, empty schema (PostgreSQL) or database (MariaDB); return its URL."""
        name = f"crmcore_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            if self.dialect == "postgresql":
                connection.execute(text(f'CREATE SCHEMA "{name}"'))
            else:
                connection.execute(
                    text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                )
        self.created.append(name)
        if self.dialect == "postgresql":
            url = self.base.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            url = self.base.set(database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every schema or database this space created."""
        with self.admin.connect() as connection:
            for name in self.created:
                if self.dialect == "postgresql":
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                else:
                    connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        self.created.clear()
        self.admin.dispose()


def _space(env: str, what: str, dialect: str) -> Iterator[ServerSpace]:
    base = _server_url(env, what)
    space = ServerSpace(_admin_engine(base, what), base, dialect)
    try:
        yield space
    finally:
        space.drop_all()


@pytest.fixture(scope="session")
def postgresql_space() -> Iterator[ServerSpace]:
    """Schemas on the PostgreSQL test server, dropped after the session."""
    yield from _space(POSTGRES_ENV, "PostgreSQL", "postgresql")


@pytest.fixture(scope="session")
def mysql_space() -> Iterator[ServerSpace]:
    """Databases on the MariaDB/MySQL test server, dropped after the session."""
    yield from _space(MYSQL_ENV, "MariaDB/MySQL", "mysql")


@pytest.fixture(scope="session")
def postgresql_url(postgresql_space: ServerSpace) -> str:
    """A URL to this session's own PostgreSQL schema."""
    return postgresql_space.new()


@pytest.fixture(scope="session")
def mysql_url(mysql_space: ServerSpace) -> str:
    """A URL to this session's own MariaDB/MySQL database."""
    return mysql_space.new()


SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
"""Parameters for tests that run on every SQL dialect (``sqlite``, ``postgresql``, ``mysql``)."""


@pytest.fixture(scope="session")
def fresh_sql_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Make the URL of a new database of a dialect, without any tables (for migrations)."""

    def make(dialect: str) -> str:
        if dialect == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.db'}"
        space: ServerSpace = request.getfixturevalue(f"{dialect}_space")
        return space.new()

    return make


@pytest.fixture(scope="session")
def sql_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Make the URL of a migrated crmcore database of a dialect with empty tables.

    SQLite gets a new file; PostgreSQL and MariaDB reuse the session's schema or
    database, emptied.
    """

    def make(dialect: str) -> str:
        if dialect == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.db'}"
        url = str(request.getfixturevalue(f"{dialect}_url"))
        _empty_tables(url)
        return url

    return make


@pytest.fixture(params=SQL_DIALECTS)
def sql_backend(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[SqlBackend]:
    """A migrated, empty SQL backend of each dialect (closed after the test)."""
    from crmcore.storage.sqlalchemy import create_backend

    opened = create_backend(sql_database(str(request.param)))
    try:
        yield opened
    finally:
        opened.close()


def _empty_tables(url: str) -> None:
    from crmcore.storage.sqlalchemy import make_engine, metadata, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()


# Hypothesis profiles: ``HYPOTHESIS_PROFILE=fuzz pytest tests/fuzz`` runs the fuzz
# targets (and every property test) much longer; see docs/fuzzing.md.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("fuzz", max_examples=5_000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    _hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

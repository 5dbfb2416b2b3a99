"""Engines for crmcore: URL normalisation, drivers, and per-dialect connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from crmcore.errors import (
    BackendUnavailable,
    CrmError,
    InvalidStorageURL,
    StorageError,
    UnknownBackend,
)

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_CACHE_KIB",
    "is_memory_sqlite",
    "make_engine",
    "missing_sqlite_directory",
    "missing_sqlite_file",
    "normalise_url",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another writer's lock before giving up."""

SQLITE_CACHE_KIB = 65_536
"""SQLite's page cache per connection, in KiB (SQLite's default is 2 MiB)."""

_DRIVERS = {
    "postgresql": "psycopg",
    "postgres": "psycopg",
    "mysql": "pymysql",
    "mariadb": "pymysql",
}

_HINTS = {
    "psycopg": "pip install 'crmcore[postgres]' (psycopg 3)",
    "pymysql": "pip install 'crmcore[mysql]' (PyMySQL)",
}


_THREE_BYTE_UTF8 = frozenset({"utf8", "utf8mb3"})
"""MariaDB/MySQL charsets named UTF-8 that hold only 3 bytes a character."""


def normalise_url(url: str | URL) -> URL:
    """Return the URL crmcore connects with: ``postgresql://`` uses psycopg 3, ``mysql://`` PyMySQL.

    MariaDB/MySQL URLs get ``charset=utf8mb4`` unless they name another charset; a
    3-byte ``utf8`` or ``utf8mb3`` is upgraded to ``utf8mb4``, the charset of crmcore's
    tables, because it cannot carry an emoji or a rare CJK character (``𠮷``): the
    server would refuse the write or store ``????``.

    Raises:
        UnknownBackend: The URL is not a SQLAlchemy database URL.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:  # ValueError: a port that is not a number
        raise UnknownBackend(f"not a database URL: {url!r}") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if not driver and backend in _DRIVERS:
        parsed = parsed.set(drivername=f"{backend}+{_DRIVERS[backend]}")
    elif backend != parsed.drivername.partition("+")[0]:
        parsed = parsed.set(drivername=f"{backend}+{driver}")
    if backend in ("mysql", "mariadb"):
        charset = parsed.query.get("charset")
        if charset is None or (isinstance(charset, str) and charset.lower() in _THREE_BYTE_UTF8):
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def is_memory_sqlite(url: str | URL) -> bool:
    """Whether ``url`` is an in-memory SQLite database (gone when its last connection closes).

    ``sqlite://``, ``sqlite:///:memory:``, the URI forms ``sqlite:///file::memory:...``
    and ``sqlite:///file:name?mode=memory&uri=true``. crmcore runs such a database on
    one shared connection, declares it neither persistent nor open to concurrent
    writers, and the CLI never mistakes it for a file.
    """
    parsed = url if isinstance(url, URL) else normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or "mode=memory" in database
        or parsed.query.get("mode") == "memory"
    )


def make_engine(url: str | URL, **options: Any) -> Engine:
    """Create a SQLAlchemy engine configured as crmcore needs it.

    * SQLite: WAL journal, ``busy_timeout``, ``foreign_keys`` on; the driver runs in
      autocommit mode and crmcore takes the write lock itself (``BEGIN IMMEDIATE``)
      before a transaction's first write, so stale writers see the newest version.
      ``sqlite://`` (in memory) shares one connection.
    * MariaDB/MySQL: ``READ COMMITTED`` (as PostgreSQL's default), ``utf8mb4``.
    * Every server dialect: ``pool_pre_ping``, a pooled connection is checked before use.

    Raises:
        BackendUnavailable: The URL's driver is not installed; the message says what to install.
        UnknownBackend: No SQLAlchemy dialect handles the URL.
        InvalidStorageURL: A SQLite file URL names a directory that does not exist
            (SQLite creates the file, never its directory).
    """
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        options.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        if is_memory_sqlite(parsed):
            options.setdefault("poolclass", StaticPool)
        else:
            _check_sqlite_directory(parsed)
    elif backend in ("mysql", "mariadb"):
        options.setdefault("isolation_level", "READ COMMITTED")

    if backend != "sqlite":
        # a pooled connection the server ended (a restart, an idle timeout) is replaced
        # before use, so the first unit of work after it does not fail
        options.setdefault("pool_pre_ping", True)
    try:
        engine = create_engine(parsed, **options)
    except NoSuchModuleError as error:
        raise UnknownBackend(f"no SQLAlchemy dialect for {parsed.drivername!r}") from error
    except ModuleNotFoundError as error:
        driver = parsed.get_driver_name()
        hint = _HINTS.get(driver, f"install the {driver!r} driver")
        raise BackendUnavailable(
            f"the {driver!r} driver for {backend} is not installed: {hint}"
        ) from error
    except (ArgumentError, TypeError) as error:
        raise StorageError(f"cannot create an engine for {parsed!r}: {error}") from error
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def missing_sqlite_directory(url: URL) -> Path | None:
    """The directory a SQLite file URL names when it does not exist, else ``None``."""
    database = url.database or ""
    if not database or url.query.get("uri") or database.startswith("file:"):
        return None  # URI filenames are SQLite's to resolve
    parent = Path(database).expanduser().parent
    return None if parent.is_dir() else parent


def missing_sqlite_file(url: str | URL) -> bool:
    """Whether ``url`` is a SQLite file URL whose file does not exist (connecting creates it).

    In-memory databases and URI filenames (``file:...``, ``?uri=true``) never count as
    missing: they are SQLite's to resolve.
    """
    try:
        parsed = url if isinstance(url, URL) else normalise_url(url)
    except CrmError:
        return False
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(parsed):
        return False
    database = parsed.database or ""
    if not database or parsed.query.get("uri") or database.startswith("file:"):
        return False
    return not Path(database).expanduser().exists()


def _check_sqlite_directory(url: URL) -> None:
    missing = missing_sqlite_directory(url)
    if missing is not None:
        raise InvalidStorageURL(
            f"the directory {str(missing)!r} of the SQLite file {url.database!r} does not exist; "
            "create it first (SQLite creates the file, not its directory)"
        )


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Driver autocommit: pysqlite no longer issues its own BEGIN; crmcore does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()

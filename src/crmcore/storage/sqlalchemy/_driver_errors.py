"""Driver and SQLAlchemy errors as crmcore errors, and a stored row's failed checks.

Every statement the SQL storage runs goes through :func:`translated`; which driver
errors a retry may cure is decided by :func:`~._transient.is_transient`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from crmcore.errors import (
    InvalidStorageURL,
    SchemaOutdated,
    StorageError,
    TransientStorageError,
    ValidationError,
)
from crmcore.storage.sqlalchemy._transient import is_transient

__all__ = [
    "INTEGRITY_ERRORS",
    "missing_database",
    "missing_table",
    "roll_back_failed",
    "row_error",
    "storage_error",
    "translated",
]


def row_error(error: ValidationError, kind: str, record_id: str) -> ValidationError:
    """``error`` (a stored row that fails its checks) with the row's kind and id in its subject.

    The problems (codes and ``$.paths``) are the checked reader's, unchanged.
    """
    subject = f"{error.subject or kind} {record_id!r} (stored {kind} row)"
    return ValidationError(error.problems, subject=subject)


def _integrity_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is optional
        return (IntegrityError,)
    return (IntegrityError, psycopg.errors.IntegrityError)


INTEGRITY_ERRORS = _integrity_errors()
"""The driver exception classes of a broken constraint (a duplicate id)."""


_NO_TABLE = re.compile(
    r"no such table: (?:\w+\.)?(crm_\w+)"  # SQLite
    r"|relation \"(crm_\w+)\" does not exist"  # PostgreSQL (42P01)
    r"|Table '(?:[^'.]*\.)?(crm_\w+)' doesn't exist",  # MariaDB/MySQL (1146)
)


def missing_table(error: BaseException) -> str | None:
    """The crmcore table ``error`` says the database lacks (an older schema), or ``None``."""
    found = _NO_TABLE.search(str(getattr(error, "orig", None) or error))
    if found is None:
        return None
    return next(name for name in found.groups() if name)


_NO_DATABASE = re.compile(r'database "([^"]*)" does not exist')  # libpq, SQLSTATE 3D000
_MYSQL_UNKNOWN_DATABASE = 1049
_MYSQL_NAMED = re.compile(r"Unknown database '([^']*)'")
_SEARCH_PATH = re.compile(r"search_path\s*=\s*(\S+)")


def missing_database(error: BaseException, url: URL | None = None) -> InvalidStorageURL | None:
    """:class:`InvalidStorageURL` when ``error`` says the URL's database or schema is missing.

    PostgreSQL: a database that does not exist (SQLSTATE ``3D000``, or libpq's message
    when connecting) or a ``search_path`` naming no existing schema (``3F000``, "no
    schema has been selected"); MariaDB/MySQL: an unknown database (error 1049).
    ``url`` (when known) names the database and schema in the message.
    """
    orig = getattr(error, "orig", None) or error
    module = type(orig).__module__
    database = url.database if url is not None else None
    if module.startswith("psycopg"):
        state = getattr(orig, "sqlstate", None)
        named = _NO_DATABASE.search(str(orig))
        if state == "3D000" or (state is None and named is not None):
            name = named.group(1) if named is not None else database
            return InvalidStorageURL(
                f"the PostgreSQL database {name!r} does not exist on the server: create it "
                "(CREATE DATABASE) or correct the URL's database name"
            )
        if state == "3F000":
            options = str(url.query.get("options", "")) if url is not None else ""
            path = _SEARCH_PATH.search(options)
            schema = repr(path.group(1)) if path is not None else "of its search_path"
            return InvalidStorageURL(
                f"the PostgreSQL schema {schema} does not exist in the database "
                f"{database!r}: create it (CREATE SCHEMA) or correct the URL's "
                "options=-csearch_path=..."
            )
    elif module.startswith("pymysql"):
        args = getattr(orig, "args", ())
        if args and args[0] == _MYSQL_UNKNOWN_DATABASE:
            named = _MYSQL_NAMED.search(str(orig))
            name = named.group(1) if named is not None else database
            return InvalidStorageURL(
                f"the MariaDB/MySQL database {name!r} does not exist on the server: "
                "create it (CREATE DATABASE) or correct the URL's database name"
            )
    return None


def storage_error(message: str, error: BaseException) -> StorageError:
    """A :class:`StorageError` for ``error``, transient when a retry may cure it.

    A crmcore table the database lacks is :class:`~crmcore.errors.SchemaOutdated`
    (``storage.schema_outdated``): its schema predates this crmcore. A database or
    schema that does not exist is :class:`~crmcore.errors.InvalidStorageURL`.
    """
    absent = missing_database(error)
    if absent is not None:
        return absent
    table = missing_table(error)
    if table is not None:
        return SchemaOutdated(
            f"the database has no table {table}: its schema is older than this crmcore "
            "needs; upgrade it (crmcore.storage.sqlalchemy.upgrade(url) or "
            "`crmcore db upgrade URL`)"
        )
    if is_transient(error):
        return TransientStorageError(f"{message} (transient: retry the unit of work)")
    return StorageError(message)


def roll_back_failed(savepoint: Any) -> None:
    """Roll back the savepoint of a write that failed, keeping the write's own error.

    SQLite ends the whole transaction on some errors ("database or disk is full"): the
    savepoint is gone, and rolling back to it would raise "no such savepoint" in place
    of the real cause. The failed write's error propagates either way.
    """
    if savepoint.is_active:
        with suppress(SQLAlchemyError):
            savepoint.rollback()


@contextmanager
def translated() -> Iterator[None]:
    """Turn driver and SQLAlchemy errors into crmcore's StorageError, chained.

    Errors a retry may cure (lost connections, lock timeouts, deadlocks, serialisation
    failures) become :class:`~crmcore.errors.TransientStorageError`.
    """
    try:
        yield
    except StorageError:
        raise
    except DBAPIError as error:
        raise storage_error(f"database error: {error.orig!r}", error) from error
    except SQLAlchemyError as error:
        raise StorageError(f"database error: {error}") from error
    except (UnicodeError, OverflowError) as error:  # a driver refusing a value
        raise StorageError(f"the database driver refused a value: {error!r}") from error
    except Exception as error:
        if type(error).__module__.startswith(("psycopg", "pymysql", "sqlite3")):
            raise storage_error(f"database error: {error!r}", error) from error
        raise

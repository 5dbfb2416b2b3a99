"""Driver and SQLAlchemy errors as crmcore errors, and a stored row's failed checks.

Every statement the SQL storage runs goes through :func:`translated`; which driver
errors a retry may cure is decided by :func:`~._transient.is_transient`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from crmcore.errors import SchemaOutdated, StorageError, TransientStorageError, ValidationError
from crmcore.storage.sqlalchemy._transient import is_transient

__all__ = [
    "INTEGRITY_ERRORS",
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


def storage_error(message: str, error: BaseException) -> StorageError:
    """A :class:`StorageError` for ``error``, transient when a retry may cure it.

    A crmcore table the database lacks is :class:`~crmcore.errors.SchemaOutdated`
    (``storage.schema_outdated``): its schema predates this crmcore.
    """
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

"""Which driver errors a retry may cure: the rule behind ``TransientStorageError``.

Decided by the driver's exception class and code (see docs/errors.md "What to retry"),
never by the message, except for SQLite drivers that set no error code.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

__all__ = ["is_transient"]

_PSYCOPG_TRANSIENT_STATES = frozenset(
    {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"}
)
"""SQLSTATEs worth a retry: serialisation failure, deadlock, lock and statement timeouts,
server shutting down or starting."""

_MYSQL_TRANSIENT_CODES = frozenset({1205, 1213, 2003, 2006, 2013, 4031})
"""MariaDB/MySQL error numbers worth a retry: lock wait timeout, deadlock, cannot
connect, server gone away, connection lost, disconnected for inactivity."""

_SQLITE_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)


def is_transient(error: BaseException) -> bool:
    """Whether a driver or SQLAlchemy error is one a retry of the transaction may pass.

    Decided by the driver's exception class and code (see docs/errors.md), never by
    the message, except for SQLite drivers that set no error code.
    """
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        if error.orig is None:
            return False
        error = error.orig
    module = type(error).__module__
    if module.startswith("psycopg"):
        import psycopg

        if not isinstance(error, psycopg.OperationalError):
            return False
        state = getattr(error, "sqlstate", None)
        return state is None or state.startswith("08") or state in _PSYCOPG_TRANSIENT_STATES
    if module.startswith("pymysql"):  # PyMySQL ships no type stubs: match by class name
        code = error.args[0] if error.args else None
        operational = any(c.__name__ == "OperationalError" for c in type(error).__mro__)
        return operational and code in _MYSQL_TRANSIENT_CODES
    if module.startswith("sqlite3"):
        import sqlite3

        if not isinstance(error, sqlite3.OperationalError):
            return False
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY
        return "database is locked" in str(error) or "database table is locked" in str(error)
    return False

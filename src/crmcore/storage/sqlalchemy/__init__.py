"""crmcore's SQL storage: SQLite (the embedded default), PostgreSQL and MariaDB/MySQL.

The storage registry calls :func:`create_backend` for SQL URLs, so
``crmcore.storage.connect("sqlite:///crm.db")`` creates (or upgrades) the schema and
returns a store over it. The URLs this backend takes:

* ``sqlite:///crm.db`` (a file), ``sqlite://`` (in memory, one shared connection);
* ``postgresql://user@host/db`` or ``postgresql+psycopg://...`` (psycopg 3);
* ``mysql://user@host/db``, ``mariadb://...`` or ``mysql+pymysql://...`` (PyMySQL, utf8mb4).

The schema is versioned with the Alembic migrations shipped in this package;
:func:`upgrade` and :func:`current_revision` manage it without any ``alembic.ini``.
See ``docs/storage-sql.md``.
"""

from __future__ import annotations

from typing import Any

from crmcore.storage.sqlalchemy._backend import COPY_THRESHOLD, SqlBackend, SqlTransaction
from crmcore.storage.sqlalchemy._engine import make_engine, normalise_url
from crmcore.storage.sqlalchemy._migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from crmcore.storage.sqlalchemy._schema import HISTORY, TABLES, metadata

__all__ = [
    "COPY_THRESHOLD",
    "HISTORY",
    "TABLES",
    "VERSION_TABLE",
    "SqlBackend",
    "SqlTransaction",
    "alembic_config",
    "create_backend",
    "current_revision",
    "head_revision",
    "make_engine",
    "metadata",
    "normalise_url",
    "upgrade",
]


def create_backend(url: str, *, migrate: bool = True, **engine_options: Any) -> SqlBackend:
    """Open a SQL database as a crmcore backend, creating or upgrading its schema first.

    Args:
        url: A SQLAlchemy database URL (``sqlite:///crm.db``, ``postgresql://...``,
            ``mysql://...``); bare ``postgresql`` and ``mysql`` schemes use psycopg 3
            and PyMySQL.
        migrate: Run the shipped migrations up to the newest revision (idempotent).
            With ``False`` the database must already be at the head revision.
        **engine_options: Passed to :func:`sqlalchemy.create_engine`.

    Raises:
        BackendUnavailable: The URL's driver is not installed.
        StorageError: The database cannot be reached, migrated, or is not at the
            schema revision this crmcore needs.
    """
    engine = make_engine(url, **engine_options)
    try:
        if migrate:
            upgrade(engine)
        else:
            found, head = current_revision(engine), head_revision()
            if found != head:
                from crmcore.errors import StorageError

                raise StorageError(
                    f"database schema is at revision {found!r}, crmcore needs {head!r}; "
                    "run crmcore.storage.sqlalchemy.upgrade(url)"
                )
    except BaseException:
        engine.dispose()
        raise
    return SqlBackend(engine)

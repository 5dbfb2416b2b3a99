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

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine

from crmcore.storage.sqlalchemy._backend import COPY_THRESHOLD, SqlBackend, SqlTransaction
from crmcore.storage.sqlalchemy._engine import (
    is_memory_sqlite,
    make_engine,
    missing_sqlite_file,
    normalise_url,
)
from crmcore.storage.sqlalchemy._index import Progress
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
    "declare_index",
    "head_revision",
    "make_engine",
    "metadata",
    "normalise_url",
    "upgrade",
]


def declare_index(
    target: str | Engine | SqlBackend, path: str, *, progress: Progress | None = None
) -> bool:
    """Index the customer ``path`` (a fact key, a nested field) in a database, backfilled.

    ``target`` is a URL, an engine, or an open :class:`SqlBackend` (which uses the new
    index at once). The path is recorded in ``crm_declared_index`` and every existing
    customer's entries are written in committed batches (``progress(done, total)``
    after each; an interrupted backfill resumes on the next :func:`upgrade` or
    declaration). From then on, writes keep the path's entries and queries on it run
    in SQL. Returns ``False`` when the path was already indexed. The path
    ``"@dedupe"`` (:data:`~crmcore.storage.indexing.DEDUPE_PATH`) indexes every
    customer's duplicate-blocking keys instead, for :mod:`crmcore.storage.dedupe`.

    Backends opened on the database elsewhere before the declaration do not see it:
    declare indexes as part of deploying, like a migration, and reopen them.

    Raises:
        ValidationError: ``index.path_invalid``: the path cannot be indexed.
        InvalidStorageURL: ``target`` is the URL of an in-memory SQLite database
            (declare the index on the open backend instead).
        StorageError: The database could not be reached or is not migrated.
    """
    from crmcore.storage.sqlalchemy import _index

    if isinstance(target, SqlBackend):
        added = _index.declare_index(target.engine, path, progress=progress)
        target._indexes = None  # read again on next use
        return added
    if isinstance(target, str) and is_memory_sqlite(target):
        from crmcore.errors import InvalidStorageURL

        raise InvalidStorageURL(
            f"{target} is an in-memory SQLite database, new and empty on each connection, "
            "so an index declared through its URL is lost at once: declare it on the open "
            "backend (declare_index(backend, path)) or when connecting "
            "(connect(url, indexes=[path]))"
        )
    if isinstance(target, str) and missing_sqlite_file(target):
        from crmcore.errors import SchemaOutdated

        raise SchemaOutdated(
            f"there is no database at {target}: create it first "
            "(crmcore.storage.sqlalchemy.upgrade(url) or `crmcore db upgrade URL`)"
        )
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        return _index.declare_index(engine, path, progress=progress)
    finally:
        if isinstance(target, str):
            engine.dispose()


def create_backend(
    url: str, *, migrate: bool = True, indexes: Iterable[str] = (), **engine_options: Any
) -> SqlBackend:
    """Open a SQL database as a crmcore backend, creating or upgrading its schema first.

    Args:
        url: A SQLAlchemy database URL (``sqlite:///crm.db``, ``postgresql://...``,
            ``mysql://...``); bare ``postgresql`` and ``mysql`` schemes use psycopg 3
            and PyMySQL.
        migrate: Run the shipped migrations up to the newest revision (idempotent).
            With ``False`` the database must already be at the head revision.
        indexes: Customer paths to index beyond the defaults (:func:`declare_index`,
            backfilled now if new).
        **engine_options: Passed to :func:`sqlalchemy.create_engine`.

    Raises:
        BackendUnavailable: The URL's driver is not installed.
        StorageError: The database cannot be reached or migrated;
            :class:`~crmcore.errors.SchemaOutdated` when, with ``migrate=False``, it
            is not at the schema revision this crmcore needs.
    """
    from crmcore.storage._arguments import check_index_paths
    from crmcore.storage.indexing import IndexSet

    paths = check_index_paths(indexes)
    # every path checked before the database is opened: a refused one creates nothing
    IndexSet.of(paths)
    engine = make_engine(url, **engine_options)
    try:
        if migrate:
            upgrade(engine)
        else:
            found, head = current_revision(engine), head_revision()
            if found != head:
                from crmcore.errors import SchemaOutdated

                raise SchemaOutdated(
                    f"database schema is at revision {found!r}, crmcore needs {head!r}; "
                    "run crmcore.storage.sqlalchemy.upgrade(url)"
                )
        for path in paths:
            declare_index(engine, path)
    except BaseException:
        engine.dispose()
        raise
    return SqlBackend(engine)

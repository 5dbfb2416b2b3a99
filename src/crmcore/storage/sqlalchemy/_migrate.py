"""Creating and upgrading a crmcore database with the Alembic migrations shipped in the package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from crmcore.errors import StorageError, TransientStorageError

__all__ = ["MIGRATIONS", "VERSION_TABLE", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
"""The directory of crmcore's Alembic environment (``env.py`` and ``versions/``)."""

VERSION_TABLE = "crmcore_alembic_version"
"""The table in which Alembic records crmcore's schema revision."""


def alembic_config() -> Config:
    """Return an Alembic configuration for crmcore's migrations; no ``alembic.ini`` needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """Return the newest schema revision this version of crmcore ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@contextmanager
def _connection(target: str | Engine) -> Iterator[Connection]:
    """A connection to ``target``; failing to connect is a (transient) StorageError."""
    from crmcore.storage.sqlalchemy._driver_errors import missing_database
    from crmcore.storage.sqlalchemy._engine import make_engine
    from crmcore.storage.sqlalchemy._transient import is_transient

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        try:
            opened = engine.connect()
        except SQLAlchemyError as error:
            where = engine.url.render_as_string(hide_password=True)
            message = f"could not connect to the database {where}: {error}"
            absent = missing_database(error, engine.url)
            if absent is not None:  # a database name that does not exist: not transient
                raise absent from error
            if is_transient(error):  # refused, unreachable, gone away: retrying may help
                raise TransientStorageError(message) from error
            raise StorageError(message) from error
        with opened as connection:
            yield connection
    finally:
        if isinstance(target, str):
            engine.dispose()


def upgrade(
    target: str | Engine,
    *,
    revision: str = "head",
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Create crmcore's tables in a database, or bring them up to ``revision``.

    Idempotent: upgrading a database that is already at the head changes nothing.
    ``target`` is a database URL or a SQLAlchemy :class:`~sqlalchemy.Engine`.

    The schema changes run in one transaction. Then every unfinished backfill of the
    customer index (revision 0003's, a declared index's, or one interrupted earlier)
    runs in committed batches of 1,000 customers, calling ``progress(done, total)``
    after each; an interrupted upgrade resumes the backfill where it stopped.

    Raises:
        StorageError: The database could not be reached or migrated.
    """
    from crmcore.storage.sqlalchemy._driver_errors import missing_database
    from crmcore.storage.sqlalchemy._index import has_index_tables, run_backfills

    try:
        with _connection(target) as connection:
            if connection.dialect.name == "sqlite":
                # The engine runs pysqlite in driver autocommit mode; take the write lock
                # explicitly so the whole upgrade is one transaction.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            if has_index_tables(connection):
                connection.commit()
                run_backfills(connection, progress=progress)
    except SQLAlchemyError as error:
        url = make_url(target) if isinstance(target, str) else target.url
        absent = missing_database(error, url)  # a search_path naming no schema
        if absent is not None:
            raise absent from error
        raise StorageError(f"could not migrate the database: {error}") from error


def current_revision(target: str | Engine) -> str | None:
    """Return the database's crmcore schema revision (``None``: no crmcore tables yet).

    A SQLite file that does not exist has no revision (``None``), and is not created.

    Raises:
        StorageError: The database could not be reached.
    """
    from crmcore.storage.sqlalchemy._engine import missing_sqlite_file

    if isinstance(target, str) and missing_sqlite_file(target):
        return None
    try:
        with _connection(target) as connection:
            if not inspect(connection).has_table(VERSION_TABLE):
                return None
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except SQLAlchemyError as error:
        raise StorageError(f"could not read the schema revision: {error}") from error


def schedule_backfill(path: str, *, restart: bool = False) -> None:
    """Inside a migration: schedule a backfill of the declared index ``path``, or of all.

    A row in ``crm_index_backfill``, which :func:`upgrade` then runs in committed
    batches, replacing every customer's entries of ``path`` (revisions 0009, 0011 and
    0013 recompute the ``@dedupe`` blocking keys this way). ``"*"`` rewrites every
    customer's entries of every path (revision 0012's absence markers). Nothing happens
    where ``path`` is not declared, or where a rewrite of everything is pending and not
    yet started (it covers ``path``); a backfill already pending is left as it is
    (restartable).

    ``restart``: a backfill of ``path`` that an older release left part-done starts over
    from the first customer, since the entries it already wrote lack what this revision
    adds (0014's ``address_sorted`` keys); one not yet started is left as it is.
    """
    import sqlalchemy as sa
    from alembic import context, op

    if restart:
        reset = "UPDATE crm_index_backfill SET after_id = NULL WHERE path = :path"
        op.execute(sa.text(reset).bindparams(path=path))

    every = path == "*"  # crmcore.storage.sqlalchemy._index.ALL_PATHS
    if context.is_offline_mode():
        # One row at most: from the declaration, or for "*" from the version table
        # (a SELECT without FROM is not portable).
        source = (
            f"FROM {VERSION_TABLE} WHERE"
            if every
            else "FROM crm_declared_index WHERE path = :path AND"
        )
        op.execute(
            sa.text(
                f"INSERT INTO crm_index_backfill (path, after_id) SELECT :path, NULL {source} "
                ":path NOT IN (SELECT path FROM crm_index_backfill) AND NOT EXISTS "
                "(SELECT 1 FROM crm_index_backfill WHERE path = '*' AND after_id IS NULL)"
            ).bindparams(path=path)
        )
        return
    declared = sa.table("crm_declared_index", sa.column("path", sa.String))
    backfill = sa.table(
        "crm_index_backfill", sa.column("path", sa.String), sa.column("after_id", sa.String)
    )
    bind = op.get_bind()
    found = every or bind.execute(sa.select(declared.c.path).where(declared.c.path == path)).first()
    pending = bind.execute(
        sa.select(backfill.c.path).where(
            (backfill.c.path == path) | ((backfill.c.path == "*") & backfill.c.after_id.is_(None))
        )
    ).first()
    if found and pending is None:
        bind.execute(sa.insert(backfill).values(path=path, after_id=None))

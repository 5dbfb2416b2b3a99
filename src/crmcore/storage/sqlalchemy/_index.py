"""The customer index table: writing entries, backfilling them, declaring extra paths.

Every customer write of :class:`~crmcore.storage.sqlalchemy.SqlBackend` also writes the
customer's :meth:`IndexSet.entries <crmcore.storage.indexing.IndexSet.entries>` as rows of
``crm_customer_index`` (:data:`~crmcore.storage.sqlalchemy._schema.INDEX`), in the same
transaction: an insert adds them, an update replaces them, a delete removes them, so the
document and its index rows never disagree.

A row holds text entries in ``text_value`` (the first
:data:`~crmcore.storage.sqlalchemy._schema.INDEX_TEXT_LENGTH` characters) and, only when
the text is longer, the whole value in ``text_full``; integer and boolean entries in
``number_value``. A single-valued path without a value has an absence marker instead
(``<path>#absent`` at position 0 with the empty text,
:data:`~crmcore.storage.indexing.ABSENT_SUFFIX`): revision 0012 backfills them.

Backfills (revision 0003 for existing customers, :func:`declare_index` for a new path)
run in committed batches of :data:`BACKFILL_BATCH` customers in id order, recording how
far they got in ``crm_index_backfill``, so an interrupted one resumes where it stopped.
A backend refuses to answer queries while a backfill is unfinished
(:func:`load_index_set`); :func:`crmcore.storage.sqlalchemy.upgrade` finishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, func, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from crmcore.errors import SchemaOutdated, StorageError
from crmcore.models import Customer
from crmcore.storage.indexing import (
    ABSENT_SUFFIX,
    DEDUPE_PATH,
    MONTH_DAY_SUFFIX,
    IndexEntry,
    IndexSet,
    dedupe_entry_path,
)
from crmcore.storage.sqlalchemy._rows import compiled_insert, driver_ready
from crmcore.storage.sqlalchemy._schema import (
    DECLARED_INDEX,
    INDEX,
    INDEX_BACKFILL,
    INDEX_TEXT_LENGTH,
    TABLES,
)

__all__ = [
    "ALL_PATHS",
    "BACKFILL_BATCH",
    "COPY_ROWS",
    "Progress",
    "declare_index",
    "delete_entries",
    "entry_row",
    "has_index_tables",
    "index_rows",
    "load_index_set",
    "pending_backfills",
    "prepared_rows",
    "run_backfills",
    "still_current",
    "write_rows",
]

BACKFILL_BATCH = 1000
"""Customers indexed per committed backfill batch."""

COPY_ROWS = 500
"""On PostgreSQL, at least this many index rows are written with a binary ``COPY``."""

ALL_PATHS = "*"
"""The ``crm_index_backfill`` path of a backfill of every indexed path (revision 0003)."""

Progress = Callable[[int, int], None]
"""A backfill's progress callback: ``progress(done, total)`` customers, after each batch."""

Row = tuple[str, str, int, str | None, str | None, int | None]

_COLUMNS = tuple(c.name for c in INDEX.columns)
_COPY_TYPES = ["text", "text", "int4", "text", "text", "int8"]
_CUSTOMERS = TABLES["customer"]
_IN_CHUNK = 500


def entry_row(customer_id: str, entry: IndexEntry) -> Row:
    """The ``crm_customer_index`` row of one entry (columns in table order)."""
    value = entry.value
    if isinstance(value, int):
        return (customer_id, entry.path, entry.position, None, None, value)
    if len(value) > INDEX_TEXT_LENGTH:
        return (customer_id, entry.path, entry.position, value[:INDEX_TEXT_LENGTH], value, None)
    return (customer_id, entry.path, entry.position, value, None, None)


def index_rows(index_set: IndexSet, customers: Iterable[Customer]) -> list[Row]:
    """Every index row of ``customers`` (each as :func:`entry_row` makes it).

    :meth:`IndexSet.entry_rows <crmcore.storage.indexing.IndexSet.entry_rows>` with
    this table's text length (a fast path there).
    """
    return index_set.entry_rows(customers, INDEX_TEXT_LENGTH)


def prepared_rows(
    index_set: IndexSet, customers: Sequence[Customer], prepared: Mapping[str, Any]
) -> list[Row]:
    """The index rows of ``customers``: those an import's worker made, where it made them.

    ``prepared`` maps each customer's id to what ``_documents.WorkerPreparer`` made of
    it (or ``None``); its rows are taken when they were made for the declared paths of
    ``index_set``, and made here (:func:`index_rows`) otherwise, in customer order.
    """
    rows: list[Row] = []
    declared = index_set.declared
    for customer in customers:
        made = prepared.get(customer.id)
        if made is not None and made[3] is not None and made[2] == declared:
            rows.extend(made[3])
        else:
            index_set.entry_rows((customer,), INDEX_TEXT_LENGTH, into=rows)
    return rows


def write_rows(conn: Connection, rows: Sequence[Row]) -> None:
    """Insert index rows on ``conn`` in its transaction (executemany, or COPY on PostgreSQL)."""
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    if postgres and len(rows) >= COPY_ROWS:
        _copy(conn, rows)
    elif not postgres and driver_ready(conn, INDEX):
        # Core's INSERT, compiled once, executemany'd with positional tuples.
        conn.exec_driver_sql(compiled_insert(conn, INDEX, _COLUMNS), list(rows))
    else:
        conn.execute(INDEX.insert(), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


def _copy(conn: Connection, rows: Iterable[Row]) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in _COLUMNS)
    statement = f"COPY {preparer.format_table(INDEX)} ({columns}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            copy.write_row(row)


def delete_entries(
    conn: Connection, customer_ids: Sequence[str], paths: Sequence[str] = ()
) -> None:
    """Delete the index rows of ``customer_ids`` (only those of ``paths``, when given)."""
    for start in range(0, len(customer_ids), _IN_CHUNK):
        statement = delete(INDEX).where(
            INDEX.c.customer_id.in_(customer_ids[start : start + _IN_CHUNK])
        )
        if paths:
            statement = statement.where(INDEX.c.path.in_(paths))
        conn.execute(statement)


# --------------------------------------------------------------------------- the index set


def has_index_tables(conn: Connection) -> bool:
    """True when the database on ``conn`` has the index tables (revision 0003 or later)."""
    return bool(inspect(conn).has_table(DECLARED_INDEX.name))


def pending_backfills(conn: Connection) -> list[str]:
    """The paths whose backfill is unfinished (``"*"``: all of them), in path order."""
    return list(
        conn.execute(select(INDEX_BACKFILL.c.path).order_by(INDEX_BACKFILL.c.path)).scalars()
    )


def _declared(conn: Connection) -> list[str]:
    return list(
        conn.execute(select(DECLARED_INDEX.c.path).order_by(DECLARED_INDEX.c.path)).scalars()
    )


def still_current(conn: Connection, cached: IndexSet | None) -> IndexSet | None:
    """``cached`` if the database declares the same paths, else ``None`` (read it again)."""
    if cached is None:
        return None
    try:
        declared = set(_declared(conn))
    except SQLAlchemyError as error:
        raise StorageError(f"could not read the declared indexes: {error}") from error
    return cached if declared == set(cached.declared) else None


def load_index_set(conn: Connection) -> IndexSet:
    """The index set of the database on ``conn``: the defaults plus its declared paths.

    Raises:
        SchemaOutdated: The database has no index table yet (a schema before revision
            0003), or a backfill is unfinished; ``crmcore.storage.sqlalchemy.upgrade``
            (or ``crmcore db upgrade``) brings it up to date.
    """
    try:
        if not has_index_tables(conn):
            raise SchemaOutdated(
                "the database has no customer index table (schema before revision 0003); "
                "run crmcore.storage.sqlalchemy.upgrade(url) or `crmcore db upgrade URL`"
            )
        pending = pending_backfills(conn)
        declared = _declared(conn)
    except SQLAlchemyError as error:
        raise StorageError(f"could not read the declared indexes: {error}") from error
    if pending:
        raise SchemaOutdated(
            f"the customer index is still being backfilled ({', '.join(pending)}); "
            "finish it with crmcore.storage.sqlalchemy.upgrade(url) or `crmcore db upgrade URL`"
        )
    return IndexSet.of(declared)


# --------------------------------------------------------------------------- backfills


@contextmanager
def _batch(conn: Connection) -> Iterator[None]:
    """One committed batch (SQLite: under its write lock, taken explicitly)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def run_backfills(conn: Connection, *, progress: Progress | None = None) -> None:
    """Finish every pending backfill on ``conn`` (outside any transaction), batch by batch.

    Each batch of :data:`BACKFILL_BATCH` customers (in id order, after the recorded
    ``after_id``) replaces those customers' entries of the backfilled paths and records
    its last id, in one committed transaction; the backfill's row is deleted with its
    last batch. ``progress(done, total)`` is called after each batch.
    """
    if conn.in_transaction():
        conn.commit()
    with _batch(conn):
        pending = pending_backfills(conn)
        index_set = IndexSet.of(_declared(conn))
    for path in pending:
        _backfill(conn, index_set, path, progress)


def _entry_paths(index_set: IndexSet, path: str) -> tuple[IndexSet, list[str]]:
    if path == ALL_PATHS:
        return index_set, []
    if path == DEDUPE_PATH:
        from crmcore.rules.dedupe.keys import BlockingPass

        return IndexSet(paths=(), dedupe=True), [dedupe_entry_path(p) for p in BlockingPass]
    indexed = index_set.get(path)
    if indexed is None:  # declared and removed since: drop its rows only
        return IndexSet(paths=()), [path, path + MONTH_DAY_SUFFIX, path + ABSENT_SUFFIX]
    return IndexSet(paths=(indexed,)), [path, path + MONTH_DAY_SUFFIX, path + ABSENT_SUFFIX]


def _backfill(conn: Connection, index_set: IndexSet, path: str, progress: Progress | None) -> None:
    from crmcore.storage.sqlalchemy._codec import decode

    subset, paths = _entry_paths(index_set, path)
    row = INDEX_BACKFILL.c
    with _batch(conn):
        after = conn.execute(select(row.after_id).where(row.path == path)).scalar_one_or_none()
        total = int(conn.execute(select(func.count()).select_from(_CUSTOMERS)).scalar_one())
        done = 0
        if after is not None:
            done = int(
                conn.execute(
                    select(func.count()).select_from(_CUSTOMERS).where(_CUSTOMERS.c.id <= after)
                ).scalar_one()
            )
    page = select(_CUSTOMERS.c.id, _CUSTOMERS.c.doc).order_by(_CUSTOMERS.c.id).limit(BACKFILL_BATCH)
    while True:
        with _batch(conn):
            statement = page if after is None else page.where(_CUSTOMERS.c.id > after)
            found = conn.execute(statement).all()
            ids = [r[0] for r in found]
            delete_entries(conn, ids, paths)
            write_rows(conn, index_rows(subset, (decode(r[1], Customer) for r in found)))
            if len(found) < BACKFILL_BATCH:
                conn.execute(delete(INDEX_BACKFILL).where(row.path == path))
            else:
                after = ids[-1]
                conn.execute(update(INDEX_BACKFILL).where(row.path == path).values(after_id=after))
        done += len(found)
        if progress is not None:
            progress(min(done, total), total)
        if len(found) < BACKFILL_BATCH:
            return


def declare_index(engine: Engine, path: str, *, progress: Progress | None = None) -> bool:
    """Index customer ``path`` in the database behind ``engine`` and backfill it.

    The path is checked (``index.path_invalid`` if it cannot be indexed), recorded in
    ``crm_declared_index`` with a pending backfill in one transaction, then backfilled
    in committed batches. Returns ``False`` when ``path`` was already indexed (a
    default or declared path; an unfinished backfill of it is resumed).

    Backends opened on the database before the declaration neither write nor use the
    new path's entries: reopen them (declare indexes as you run migrations, before
    the application starts writing).
    """
    indexed = IndexSet.of([path])  # checks the path
    default = path not in indexed.declared
    try:
        with engine.connect() as conn:
            added = False
            with _batch(conn):
                if not has_index_tables(conn):
                    raise SchemaOutdated(
                        "the database has no customer index table; upgrade it first "
                        "(crmcore.storage.sqlalchemy.upgrade(url) or `crmcore db upgrade URL`)"
                    )
                known = set(_declared(conn))
                if not default and path not in known:
                    conn.execute(insert(DECLARED_INDEX).values(path=path))
                    conn.execute(insert(INDEX_BACKFILL).values(path=path, after_id=None))
                    added = True
            run_backfills(conn, progress=progress)
            return added
    except SQLAlchemyError as error:
        raise StorageError(f"could not declare the index {path!r}: {error}") from error

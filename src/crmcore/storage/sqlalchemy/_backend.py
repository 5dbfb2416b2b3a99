"""The SQLAlchemy backend: crmcore's Backend/Transaction SPI over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    StorageError,
    ValidationError,
)
from crmcore.models import ChangeRecord
from crmcore.query.search import SEARCH_FIELDS
from crmcore.storage._arguments import check_batch_size
from crmcore.storage.ports import RECORD_TYPES, Capabilities, Record, RecordKind
from crmcore.storage.sqlalchemy import (
    _codec,
    _count,
    _index,
    _merged,
    _order,
    _query,
    _scan,
    _search,
    _trusted,
)
from crmcore.storage.sqlalchemy._analytics import AnalyticsReads
from crmcore.storage.sqlalchemy._documents import (
    ImportPreparer,
    Prepared,
    row_with_document,
    stamped_rows,
)
from crmcore.storage.sqlalchemy._driver_errors import INTEGRITY_ERRORS as _INTEGRITY_ERRORS
from crmcore.storage.sqlalchemy._driver_errors import roll_back_failed as _roll_back_failed
from crmcore.storage.sqlalchemy._driver_errors import row_error as _row_error
from crmcore.storage.sqlalchemy._driver_errors import translated as _translated
from crmcore.storage.sqlalchemy._engine import is_memory_sqlite
from crmcore.storage.sqlalchemy._plan_cache import PlanCache
from crmcore.storage.sqlalchemy._rows import (
    COLUMNS,
    ROWS,
    compiled_insert,
    copy_types,
    driver_ready,
    positional_insert,
    record_row,
)
from crmcore.storage.sqlalchemy._schema import HISTORY, TABLES, utc_key

if TYPE_CHECKING:
    from crmcore.query import Query
    from crmcore.storage._parallel import Stamped
    from crmcore.storage.indexing import IndexSet

__all__ = ["COPY_THRESHOLD", "SORT_BATCHES", "SqlBackend", "SqlTransaction", "record_row"]

COPY_THRESHOLD = 100
"""On PostgreSQL, batches of at least this many records are written with ``COPY``."""

_IN_CHUNK = 500
_ANY_CHUNK = 10_000
_ID_ARRAY = bindparam("ids", type_=postgresql.ARRAY(String()))

SORT_BATCHES = True
"""Insert each batch in id order (B-tree locality for random ids such as UUIDs)."""


def _by_id(record: Record) -> str:
    return record.id


def _stamped_id(stamped: Stamped) -> str:
    return stamped.ready.id


def _table(kind: str) -> Table:
    try:
        return TABLES[kind]
    except KeyError:
        raise StorageError(f"unknown record kind {kind!r}") from None


def _capabilities(engine: Engine) -> Capabilities:
    if is_memory_sqlite(engine.url):
        # One shared connection in memory: transactions are not isolated from each other
        # (use a file, or memory://, for anything concurrent).
        return Capabilities(persistent=False, concurrent_writers=False)
    return Capabilities(persistent=True, concurrent_writers=True)


class SqlBackend:
    """A crmcore storage backend over a SQLAlchemy engine.

    Build it with :func:`crmcore.storage.sqlalchemy.create_backend` (which also creates
    or upgrades the schema), or directly from an engine made by
    :func:`~crmcore.storage.sqlalchemy.make_engine` on a database already migrated.

    Attributes:
        engine: The SQLAlchemy engine.
        capabilities: What this database supports (see :class:`Capabilities`).
    """

    def __init__(self, engine: Engine, *, owns_engine: bool = True) -> None:
        self.engine = engine
        self.capabilities = _capabilities(engine)
        self._owns_engine = owns_engine
        self._closed = False
        # ``sqlite://`` (in memory) has one connection shared by everyone: transactions
        # on it take turns, or they would see and commit each other's writes.
        self._shared: threading.Lock | None = (
            threading.Lock() if isinstance(engine.pool, StaticPool) else None
        )
        self._shared_owner: int | None = None
        self._indexes: IndexSet | None = None
        self._plans = PlanCache()

    @property
    def import_preparer(self) -> ImportPreparer:
        """Run in an import's workers on each normalised customer (``import_customers(workers=)``).

        Its document, encoded but for the version and timestamps the import stamps later
        (``_documents.document_parts``), its search columns and its index rows
        (``_documents.WorkerPreparer``); :meth:`SqlTransaction.insert` joins them in.
        """
        return ImportPreparer(self)

    def index_set(self, conn: Connection | None = None) -> IndexSet:
        """The customer paths indexed here, read once (see ``_index.load_index_set``)."""
        if self._indexes is None:
            transaction = self.begin() if conn is None else None
            try:
                self._indexes = _index.load_index_set(conn or transaction._connection())  # type: ignore[union-attr]
            finally:
                if transaction is not None:
                    transaction.rollback()
        return self._indexes

    def explain(self, kind: RecordKind, query: Query) -> _query.Explanation:
        """Which filter leaves and orderings of ``query`` run in SQL and which in Python."""
        indexes = self.index_set() if kind == "customer" else None
        return _query.explain(query.compile(RECORD_TYPES[kind]), _table(kind), indexes)

    def _take_shared(self) -> None:
        if self._shared is None:
            return
        if self._shared_owner == threading.get_ident():
            raise StorageError(
                "an in-memory SQLite database (sqlite://) runs one transaction at a time, "
                "and this thread already has one open; commit or roll it back first"
            )
        self._shared.acquire()
        self._shared_owner = threading.get_ident()

    def _release_shared(self) -> None:
        if self._shared is not None and self._shared_owner == threading.get_ident():
            self._shared_owner = None
            self._shared.release()

    @property
    def dialect(self) -> str:
        """Return the database's dialect name: ``"sqlite"``, ``"postgresql"`` or ``"mysql"``."""
        return self.engine.dialect.name

    def begin(self) -> SqlTransaction:
        """Start a new transaction."""
        if self._closed:
            raise StorageError("the storage backend is closed")
        return SqlTransaction(self)

    def close(self) -> None:
        """Release every connection; the backend is unusable afterwards."""
        self._closed = True
        if self._owns_engine:
            self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlBackend({self.engine.url.render_as_string(hide_password=True)!r})"


class SqlTransaction(AnalyticsReads):
    """One database transaction of a :class:`SqlBackend`.

    A connection is taken from the pool on first use and given back on :meth:`commit`
    or :meth:`rollback`; using the transaction again afterwards starts a new one.
    """

    def __init__(self, backend: SqlBackend) -> None:
        self._backend = backend
        self._engine = backend.engine
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._postgres = self._engine.dialect.name == "postgresql"
        self._conn: Connection | None = None
        self._writing = False
        self._indexes_checked = False

    # ------------------------------------------------------------------ plumbing

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is None:
            self._backend._take_shared()
            try:
                with _translated():
                    conn = self._engine.connect()
                    conn.begin()
            except BaseException:
                self._backend._release_shared()
                raise
            self._conn = conn
        return conn

    def _writer(self) -> Connection:
        conn = self._connection()
        if self._sqlite and not self._writing:
            # Take SQLite's write lock now (waiting up to busy_timeout for other writers),
            # so every read from here on sees the newest committed data.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        self._writing = True
        return conn

    def _finish(self, commit: bool) -> None:
        conn, self._conn = self._conn, None
        self._writing = False
        if conn is None:
            return
        try:
            with _translated():
                if commit:
                    conn.commit()
                else:
                    conn.rollback()
        finally:
            conn.close()
            self._backend._release_shared()

    def _indexes(self, kind: str) -> IndexSet | None:
        return self._backend.index_set(self._connection()) if kind == "customer" else None

    def _write_indexes(self, conn: Connection) -> IndexSet:
        """The index set customer writes use, re-checked once per writing transaction.

        A path another process declared since this backend read its index set is then
        written too (a writer that missed it would leave customers out of its answers).
        """
        if not self._indexes_checked:
            backend = self._backend
            backend._indexes = _index.still_current(conn, backend._indexes)
            self._indexes_checked = True
        return self._backend.index_set(conn)

    # ------------------------------------------------------------------ reads

    def get(self, kind: RecordKind, record_id: str) -> Record | None:
        """Return the stored record of ``kind`` with ``record_id``, or ``None``."""
        table = _table(kind)
        with _translated():
            row = (
                self._connection()
                .execute(select(table.c.doc, table.c.doc_digest).where(table.c.id == record_id))
                .one_or_none()
            )
        if row is None:
            return None
        try:
            return _reader(kind)(row[0], row[1])
        except ValidationError as error:
            raise _row_error(error, kind, record_id) from None

    def get_many(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
        """Return the stored records among ``record_ids``, by id (missing ids are absent)."""
        table = _table(kind)
        found: dict[str, Record] = {}
        ids = list(dict.fromkeys(record_ids))
        read = _reader(kind)
        columns = (table.c.id, table.c.doc, table.c.doc_digest)
        with _translated():
            conn = self._connection()
            for chunk, where in self._id_filters(table, ids):
                rows = conn.execute(select(*columns).where(where), chunk)
                for record_id, doc, mark in rows:
                    try:
                        found[record_id] = read(doc, mark)
                    except ValidationError as error:
                        raise _row_error(error, kind, record_id) from None
        return found

    def _id_filters(
        self, table: Table, ids: list[str]
    ) -> Iterator[tuple[dict[str, Any], ColumnElement[bool]]]:
        """``(parameters, condition)`` pairs selecting rows of ``table`` whose id is in ``ids``.

        PostgreSQL takes the ids as one array (``id = ANY(:ids)``): one short statement
        whatever their number, which its planner and psycopg's prepared statements
        handle far better than an ``IN`` list of hundreds of parameters. Elsewhere the
        ids go in ``IN`` lists of at most 500.
        """
        if self._postgres:
            for start in range(0, len(ids), _ANY_CHUNK):
                yield {"ids": ids[start : start + _ANY_CHUNK]}, table.c.id == any_(_ID_ARRAY)
            return
        for start in range(0, len(ids), _IN_CHUNK):
            yield {}, table.c.id.in_(ids[start : start + _IN_CHUNK])

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        """Yield every record of ``kind`` ordered by id, fetched ``batch_size`` at a time."""
        return chain.from_iterable(self._scan_batches(kind, batch_size, None, checked=True))

    def _scan_records(
        self, kind: str, batch_size: int, where: ColumnElement[bool] | None = None
    ) -> Iterator[Record]:
        """Yield the records of ``kind`` matching ``where`` in id order, ``batch_size`` a query.

        The records of a batch are read by ``map`` over its rows, flattened by
        ``chain.from_iterable``: no generator resumes per record (the batches' generator
        resumes once a query), and a batch is read only as it is consumed.
        """
        return chain.from_iterable(self._scan_batches(kind, batch_size, where))

    def _scan_batches(
        self,
        kind: str,
        batch_size: int,
        where: ColumnElement[bool] | None,
        *,
        checked: bool = False,
    ) -> Iterator[Iterator[Record]]:
        if checked:  # here, so that scan() raises when iterated, as a generator would
            check_batch_size(batch_size)
        table = _table(kind)
        read = _reader(kind)

        def read_row(row: Any) -> Record:
            try:
                return read(row[1], row[2])
            except ValidationError as error:
                raise _row_error(error, kind, row[0]) from None

        # a fast path on SQLite: the document as its stored UTF-8 bytes (see _scan.batches)
        as_bytes = self._sqlite and fast_paths_enabled()
        yield from _scan.batches(
            self._connection, table, read_row, batch_size, where, as_bytes=as_bytes
        )

    def query(self, kind: RecordKind, query: Query) -> list[Record]:
        """Return one page of records matching ``query``, exactly as ``query.apply`` would.

        Filters and orderings on key columns run in SQL; the rest is checked with the
        reference predicate in Python while fetching in order (see ``_query``).
        """
        table = _table(kind)
        indexes = self._indexes(kind)
        planned = self._backend._plans.entry(kind, query, indexes)
        compiled, sql = planned.compiled, planned.plan(table)
        limit = query.limit
        if sql.segments is None:
            # Ordered by a path inside the document: sort the candidates in Python.
            return compiled.apply(self._scan_records(kind, 1000, sql.where))
        found: list[Record] = []
        read = _reader(kind)
        # the row id names a row that fails its checks
        extra: tuple[Any, ...] = (table.c.doc, table.c.doc_digest, table.c.id)
        searches = sql.searches if not sql.exact and fast_paths_enabled() else None
        if searches is not None:  # decided on the search columns before decoding
            extra += tuple(table.c[field.column] for field in SEARCH_FIELDS)

        def execute(statement: Select[Any]) -> Sequence[Sequence[Any]]:
            with _translated():
                return planned.rows(self._connection(), statement)

        for position, segment in enumerate(sql.segments):
            if sql.exact and limit is not None:
                chunk = limit - len(found)
            else:
                chunk = 1000 if limit is None else min(max(limit * 4, 100), 1000)
            width = len(segment.order)
            memo = planned.first.setdefault(position, {})
            for row in _order.walk(segment, sql.where, extra, execute, chunk, memo):
                verdict = None
                if searches is not None:
                    verdict = _search.column_verdict(searches, _search.row_columns(row, width + 3))
                    if verdict is False:
                        continue
                try:
                    record = read(row[width], row[width + 1])
                except ValidationError as error:
                    raise _row_error(error, kind, row[width + 2]) from None
                if sql.exact or verdict or compiled.predicate(record):
                    found.append(record)
                    if limit is not None and len(found) >= limit:
                        return found
        return found

    def count(self, kind: RecordKind, query: Query) -> int:
        """Count the records matching ``query``'s filter (ignoring order, cursor, limit)."""
        table = _table(kind)
        indexes = self._indexes(kind)
        planned = self._backend._plans.entry(kind, query, indexes)
        compiled = planned.compiled
        statement = planned.count_statement(table)
        if statement is not None:
            with _translated():
                return int(planned.rows(self._connection(), statement)[0][0])
        sql = planned.plan(table)
        predicate = compiled.predicate
        if sql.searches is not None and fast_paths_enabled():
            # The search columns decide; only the rows they leave undecided are decoded.
            with _translated():
                rows = self._connection().execute(_count.searched(table, sql.where))
                matched, undecided = _count.tally(rows, sql.searches)
            found = self.get_many(kind, undecided).values()
            return matched + sum(1 for record in found if predicate(record))
        return sum(1 for record in self._scan_records(kind, 1000, sql.where) if predicate(record))

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Return the change records of one customer, oldest first (by ``at``, then ``version``)."""
        with _translated():
            docs = (
                self._connection()
                .execute(
                    select(HISTORY.c.doc)
                    .where(HISTORY.c.customer_id == customer_id)
                    .order_by(HISTORY.c.at, HISTORY.c.version, HISTORY.c.seq)
                )
                .scalars()
                .all()
            )
        return [_codec.decode(doc, ChangeRecord) for doc in docs]

    # ------------------------------------------------------------------ writes

    def insert(
        self,
        kind: RecordKind,
        records: Sequence[Record],
        *,
        prepared: Sequence[Prepared | None] | None = None,
    ) -> None:
        """Insert new records, all or none; :class:`DuplicateRecord` if an id exists.

        ``prepared`` (customers only, one per record, or ``None`` for one): what
        :attr:`SqlBackend.import_preparer` made of the customer before it was stamped,
        in an import's worker: its document, encoded but for the version and
        timestamps, which are joined in here (``_documents.join_document``), its
        search columns and its index rows (written when made for this index set).
        """
        _table(kind)  # refuses an unknown kind
        if not records:
            return
        to_row = ROWS[kind]
        parts: dict[str, Prepared | None] | None = None
        if prepared is not None:
            if kind != "customer" or len(prepared) != len(records):
                raise StorageError("prepared rows are given for customers, one per record")
            parts = dict(zip((r.id for r in records), prepared, strict=True))
            to_row = partial(row_with_document, parts)

        index_set = self._indexes(kind)
        if SORT_BATCHES and len(records) > 1:
            # Writing in key order keeps the primary-key B-tree inserts local.
            records = sorted(records, key=_by_id)
        with self._inserting(kind, lambda: [record.id for record in records]) as conn:
            self._write_table(conn, kind, len(records), (to_row(r) for r in records))
            if index_set is not None:
                index_set = self._write_indexes(conn)
                if parts is None:
                    rows = _index.index_rows(index_set, records)  # type: ignore[arg-type]
                else:
                    rows = _index.prepared_rows(index_set, records, parts)  # type: ignore[arg-type]
                _index.write_rows(conn, rows)
            if kind == "merge":
                _merged.write_rows(conn, records)

    def insert_stamped(self, batch: Sequence[Stamped]) -> None:
        """Insert new customers from the rows an import's workers made of them.

        Each row is joined from its parts and stamps (``_documents.stamped_rows``, a
        fast path) without building the customer; a batch with a row the workers did
        not make whole, or made for another index set, is written by :meth:`insert` of
        the stamped customers (the reference). :class:`DuplicateRecord` if an id exists.
        """
        if not batch:
            return
        if SORT_BATCHES and len(batch) > 1:
            batch = sorted(batch, key=_stamped_id)
        with _translated():
            declared = self._write_indexes(self._writer()).declared
        made = stamped_rows(batch, declared)
        if made is None:
            customers = [stamped.customer() for stamped in batch]
            self.insert("customer", customers, prepared=[s.prepared for s in batch])
            return
        rows, entries = made
        with self._inserting("customer", lambda: [s.ready.id for s in batch]) as conn:
            self._write_table(conn, "customer", len(rows), rows)
            _index.write_rows(conn, entries)

    @contextmanager
    def _inserting(self, kind: str, ids: Callable[[], list[str]]) -> Iterator[Connection]:
        """The writer inside a savepoint; an integrity error as :class:`DuplicateRecord`."""
        with _translated():
            conn = self._writer()
            savepoint = conn.begin_nested()
            try:
                yield conn
            except _INTEGRITY_ERRORS as error:
                savepoint.rollback()
                raise self._duplicate(conn, kind, ids()) from error
            except BaseException:
                _roll_back_failed(savepoint)
                raise
            savepoint.commit()

    def _write_table(
        self, conn: Connection, kind: str, count: int, rows: Iterable[tuple[Any, ...]]
    ) -> None:
        """Insert ``count`` rows of ``kind``'s table, each a tuple in column order."""
        table = _table(kind)
        if self._postgres and count >= COPY_THRESHOLD:
            # Rows are serialised while COPY streams: the server indexes one
            # chunk while Python prepares the next.
            self._copy(conn, table, rows)
        elif not self._postgres and driver_ready(conn, table):
            # Core's INSERT, compiled once, executemany'd with positional tuples (on
            # MariaDB PyMySQL folds them into multi-row INSERTs, as it did the dicts).
            conn.exec_driver_sql(positional_insert(conn, kind), list(rows))
        else:
            columns = COLUMNS[kind]
            mappings = [dict(zip(columns, row, strict=True)) for row in rows]
            if self._postgres:
                # One multi-row INSERT: psycopg runs an executemany in pipeline mode,
                # and a duplicate id there logs "pipeline aborted" on its way out.
                conn.execute(table.insert().values(mappings))
            else:
                conn.execute(table.insert(), mappings)

    def _copy(self, conn: Connection, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        preparer = conn.dialect.identifier_preparer
        columns = ", ".join(preparer.quote(c.name) for c in table.columns)
        statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
        types = copy_types(table)
        if types is not None:
            # Binary COPY with the column types given up front: psycopg picks each
            # column's dumper once, and the server parses no text (about half the cost
            # of text COPY per row here).
            statement += " (FORMAT BINARY)"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _duplicate(self, conn: Connection, kind: str, ids: list[str]) -> StorageError:
        table = _table(kind)
        for chunk, where in self._id_filters(table, ids):
            existing = conn.execute(
                select(table.c.id).where(where).order_by(table.c.id).limit(1), chunk
            ).scalar_one_or_none()
            if existing is not None:
                return DuplicateRecord(kind, existing)
        seen: set[str] = set()
        for record_id in ids:
            if record_id in seen:
                return DuplicateRecord(kind, record_id)
            seen.add(record_id)
        return StorageError(f"could not insert {kind} records: integrity error")

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        """Replace a record whose stored version is ``expected_version``.

        Raises:
            ConcurrencyConflict: The stored version differs; nothing was changed.
            NotFound: No record of ``kind`` has this id.
        """
        table = _table(kind)
        row = record_row(kind, record)
        del row["id"]
        with _translated():
            conn = self._writer()
            result = conn.execute(
                table.update()
                .where(and_(table.c.id == record.id, table.c.version == expected_version))
                .values(**row)
            )
            if result.rowcount != 1:
                raise self._missed(conn, kind, record.id, expected_version)
            if kind == "customer":
                _index.delete_entries(conn, [record.id])
                index_set = self._write_indexes(conn)
                _index.write_rows(conn, _index.index_rows(index_set, [record]))  # type: ignore[list-item]
            elif kind == "merge":
                _merged.rewrite_rows(conn, record)

    def delete(self, kind: RecordKind, record_id: str, *, expected_version: int) -> None:
        """Delete a record whose stored version is ``expected_version``.

        Raises:
            ConcurrencyConflict: The stored version differs; nothing was changed.
            NotFound: No record of ``kind`` has this id.
        """
        table = _table(kind)
        with _translated():
            conn = self._writer()
            result = conn.execute(
                table.delete().where(
                    and_(table.c.id == record_id, table.c.version == expected_version)
                )
            )
            if result.rowcount != 1:
                raise self._missed(conn, kind, record_id, expected_version)
            if kind == "customer":
                _index.delete_entries(conn, [record_id])
            elif kind == "merge":
                _merged.delete_rows(conn, [record_id])

    def _missed(
        self, conn: Connection, kind: str, record_id: str, expected_version: int
    ) -> NotFound | ConcurrencyConflict:
        table = _table(kind)
        actual = conn.execute(
            select(table.c.version).where(table.c.id == record_id)
        ).scalar_one_or_none()
        if actual is None:
            return NotFound(kind, record_id)
        return ConcurrencyConflict(
            kind, record_id, expected_version=expected_version, actual_version=actual
        )

    def append_history(self, records: Sequence[ChangeRecord]) -> None:
        """Append change records; they commit or roll back with the transaction."""
        if not records:
            return
        rows = [(r.id, r.customer_id, utc_key(r.at), r.version, _codec.encode(r)) for r in records]
        with _translated():
            conn = self._writer()
            savepoint = conn.begin_nested()
            try:
                if not self._postgres and driver_ready(conn, HISTORY):
                    # compiled once, executemany'd with positional tuples
                    conn.exec_driver_sql(compiled_insert(conn, HISTORY, _HISTORY_COLUMNS), rows)
                else:
                    conn.execute(
                        HISTORY.insert(),
                        [dict(zip(_HISTORY_COLUMNS, row, strict=True)) for row in rows],
                    )
            except IntegrityError as error:
                savepoint.rollback()
                raise StorageError(
                    f"change record ids already recorded: {[r.id for r in records]}"
                ) from error
            except BaseException:
                _roll_back_failed(savepoint)
                raise
            savepoint.commit()

    # ------------------------------------------------------------------ end

    def commit(self) -> None:
        """Make every change in this transaction durable and visible, all or nothing."""
        self._finish(commit=True)

    def rollback(self) -> None:
        """Discard every change in this transaction."""
        self._finish(commit=False)


_HISTORY_COLUMNS = ("id", "customer_id", "at", "version", "doc")
"""The columns a change record writes (``seq`` is the database's), in row-tuple order."""


def _reader(kind: str) -> Callable[[str | bytes, str | None], Record]:
    """The row reader of ``kind``: trusted when the row's digest matches (see ``_trusted``)."""
    return _trusted.stored_reader(RECORD_TYPES[cast(RecordKind, kind)])

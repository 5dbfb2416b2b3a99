"""How each record becomes a table row: the columns, in table order, of every kind.

One function per record kind turns a model into the tuple of its table's columns (key
columns copied out of the record, the JSON document, the typed columns, the document's
digest); :func:`record_row` gives the same as a mapping. The backend writes these rows
(executemany, multi-row ``INSERT`` or PostgreSQL's binary ``COPY`` with
:func:`copy_types`), and the typed-column backfill of revision 0004 fills old rows from
:func:`record_row`, so a backfilled row is identical to a written one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, SmallInteger, String, Table
from sqlalchemy.engine import Connection

from crmcore.errors import StorageError
from crmcore.models import Complaint, Customer, Interaction, MergeRecord, NotDuplicate, Purchase
from crmcore.storage.ports import Record, RecordKind
from crmcore.storage.sqlalchemy import _codec, _trusted
from crmcore.storage.sqlalchemy._money import places, to_micros
from crmcore.storage.sqlalchemy._schema import TABLES, date_key, utc_key
from crmcore.storage.sqlalchemy._search import search_columns

__all__ = [
    "COLUMNS",
    "ROWS",
    "ROW_READY_DRIVERS",
    "compiled_insert",
    "copy_types",
    "customer_row",
    "driver_ready",
    "positional_insert",
    "record_row",
]


def copy_types(table: Table) -> list[str] | None:
    """PostgreSQL type names of ``table``'s columns for a binary COPY, or None for text.

    Every record column is text (``VARCHAR``/``TEXT``: one binary form, UTF-8), a 16-, 32- or
    64-bit integer or a boolean; a table with any other column type is copied as text.
    """
    types: list[str] = []
    for column in table.columns:
        if isinstance(column.type, Boolean):
            types.append("bool")
        elif isinstance(column.type, BigInteger):
            types.append("int8")
        elif isinstance(column.type, SmallInteger):
            types.append("int2")
        elif isinstance(column.type, Integer):
            types.append("int4")
        elif isinstance(column.type, String):
            types.append("text")
        else:
            return None
    return types


def _customer_row(r: Customer) -> tuple[Any, ...]:
    return customer_row(r, _codec.encode(r))


def customer_head(r: Customer) -> tuple[str, str, str, str | None]:
    """The typed columns of ``r``'s row that an import's stamps do not change.

    ``kind``, ``display_name``, ``lifecycle_stage`` and ``acquired_on``, as written.
    """
    acquired = r.acquired_on
    return (
        r.kind._value_,
        r.display_name,
        r.lifecycle_stage._value_,
        None if acquired is None else date_key(acquired),
    )


def assembled_customer_row(
    customer_id: str,
    version: int,
    head: tuple[str, str, str, str | None],
    created_key: str,
    updated_key: str,
    doc: str,
    search: tuple[str, ...],
) -> tuple[Any, ...]:
    """The ``crm_customer`` row, in column order, from its parts (the one layout)."""
    kind, display_name, stage, acquired = head
    return (
        customer_id,
        version,
        kind,
        display_name,
        stage,
        created_key,
        updated_key,
        acquired,
        doc,
        *search,
        _trusted.digest(doc),
    )


def customer_row(r: Customer, doc: str, search: tuple[str, ...] | None = None) -> tuple[Any, ...]:
    """The ``crm_customer`` row of ``r``, whose stored document ``doc`` is (``encode(r)``).

    ``search``: its search columns, when already made (``search_columns(r)``).
    """
    return assembled_customer_row(
        r.id,
        r.version,
        customer_head(r),
        utc_key(r.created_at),
        utc_key(r.updated_at),
        doc,
        search_columns(r) if search is None else search,
    )


def _interaction_row(r: Interaction) -> tuple[Any, ...]:
    return (
        r.id,
        r.version,
        r.customer_id,
        r.channel._value_,
        r.direction._value_,
        utc_key(r.occurred_at),
        utc_key(r.created_at),
        _codec.encode(r),
        r.major_event,
        _trusted.doc_digest(r),
    )


def _complaint_row(r: Complaint) -> tuple[Any, ...]:
    return (
        r.id,
        r.version,
        r.customer_id,
        r.state._value_,
        r.severity._value_,
        utc_key(r.received_at),
        utc_key(r.created_at),
        _codec.encode(r),
        r.category,
        r.root_cause,
        r.channel._value_,
        None if r.response_due is None else utc_key(r.response_due),
        None if r.resolution_due is None else utc_key(r.resolution_due),
        None if (responded := r.responded_at) is None else utc_key(responded),
        None if (resolved := r.resolved_at) is None else utc_key(resolved),
        _trusted.doc_digest(r),
    )


def _purchase_row(r: Purchase) -> tuple[Any, ...]:
    return (
        r.id,
        r.version,
        r.customer_id,
        utc_key(r.purchased_at),
        utc_key(r.created_at),
        _codec.encode(r),
        to_micros(r.amount.amount),
        r.amount.currency,
        None if (cost := r.cost) is None else to_micros(cost.amount),
        r.category,
        places(r.amount.amount),
        None if cost is None else places(cost.amount),
        _trusted.doc_digest(r),
    )


def _merge_row(r: MergeRecord) -> tuple[Any, ...]:
    return (
        r.id,
        r.version,
        r.survivor_id,
        utc_key(r.at),
        utc_key(r.created_at),
        None if r.undone_at is None else utc_key(r.undone_at),
        _codec.encode(r),
        _trusted.doc_digest(r),
    )


def _not_duplicate_row(r: NotDuplicate) -> tuple[Any, ...]:
    return (
        r.id,
        r.version,
        r.first_id,
        r.second_id,
        utc_key(r.decided_at),
        utc_key(r.created_at),
        _codec.encode(r),
        _trusted.doc_digest(r),
    )


ROWS: dict[str, Callable[[Any], tuple[Any, ...]]] = {
    "customer": _customer_row,
    "interaction": _interaction_row,
    "complaint": _complaint_row,
    "purchase": _purchase_row,
    "merge": _merge_row,
    "not_duplicate": _not_duplicate_row,
}

COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(c.name for c in table.columns) for kind, table in TABLES.items()
}


_POSITIONAL: dict[tuple[str, str, str, str, tuple[str, ...]], str] = {}


def positional_insert(conn: Connection, kind: str) -> str:
    """The dialect's ``INSERT`` of every column of ``kind``'s table, positional, in table order."""
    return compiled_insert(conn, TABLES[kind], COLUMNS[kind])


def compiled_insert(conn: Connection, table: Table, columns: tuple[str, ...]) -> str:
    """The dialect's ``INSERT`` of ``columns`` of ``table``, positional, compiled once.

    For ``exec_driver_sql`` with tuples in ``columns`` order: Core's statement, without
    building a parameter dict per row. A driver with named parameters (PyMySQL's
    ``pyformat``) gets the statement in its positional form (``format``: ``%s``).
    """
    dialect = conn.dialect
    # by driver and its parameter style: mysql+pymysql wants %s, mysql+mariadbconnector ?
    key = (dialect.name, dialect.driver, dialect.paramstyle, table.name, columns)
    sql = _POSITIONAL.get(key)
    if sql is None:
        if dialect.paramstyle == "pyformat":
            dialect = copy.copy(dialect)
            dialect.paramstyle = "format"
            dialect.positional = True
        compiled = table.insert().compile(dialect=dialect, column_keys=list(columns))
        if tuple(compiled.positiontup or ()) != columns:  # pragma: no cover
            raise StorageError(f"unexpected parameter order in {compiled}")
        sql = _POSITIONAL[key] = str(compiled)
    return sql


_READY: dict[tuple[str, str, str], bool] = {}

ROW_READY_DRIVERS: dict[str, frozenset[str]] = {
    "sqlite": frozenset({"pysqlite"}),
    "mysql": frozenset({"pymysql"}),
    "mariadb": frozenset({"pymysql"}),
}
"""The drivers, by dialect name, proven to store the rows of :data:`ROWS` as Core would.

Decided by the driver (``dialect.driver``), not the dialect's name: ``mysql+mysqldb``,
``mysql+mariadbconnector`` and ``mysql+mysqlconnector`` are all ``mysql`` but bind,
convert and batch their parameters each their own way, so they keep Core's ``insert()``.
"""


def driver_ready(conn: Connection, table: Table) -> bool:
    """Whether rows of ``table`` can go to the driver as they are, without Core's binding.

    Only for a driver of :data:`ROW_READY_DRIVERS`: SQLite's ``pysqlite`` always (its rows
    are written so); PyMySQL when no column of ``table`` has a bind processor there: Core
    would pass every value through unchanged, so an ``exec_driver_sql`` of
    :func:`compiled_insert` with positional tuples writes the same row without building a
    parameter dict per row (PyMySQL still folds the executemany into multi-row ``INSERT``
    statements). Any other driver takes Core's ``insert()``.
    """
    dialect = conn.dialect
    key = (dialect.name, dialect.driver, table.name)
    ready = _READY.get(key)
    if ready is None:
        if dialect.driver not in ROW_READY_DRIVERS.get(dialect.name, frozenset()):
            ready = False
        else:
            ready = dialect.name == "sqlite" or all(
                column.type.dialect_impl(dialect).bind_processor(dialect) is None
                for column in table.columns
            )
        _READY[key] = ready
    return ready


def record_row(kind: RecordKind, record: Record) -> dict[str, Any]:
    """Return the table row (column name to value) a record is stored as."""
    return dict(zip(COLUMNS[kind], ROWS[kind](record), strict=True))

"""The SQL schema: one table per record kind, the change history, and their indexes.

Each record table holds the whole record as a JSON document (``doc``, see
:mod:`crmcore.storage.sqlalchemy._codec`), so a customer with all its contact points,
persons and facts is one row and one read (no N+1), plus a few scalar *key columns*
copied out of the record for ordering, filtering and keyset pagination in SQL, and
last the document's digest (``doc_digest``, see :mod:`crmcore.storage.sqlalchemy._trusted`).

Every text key column compares by Unicode code point on every dialect
(:class:`CodePointString`), so SQL orders strings exactly as Python does. Timestamps
are kept as fixed-width UTC ISO 8601 text (:func:`utc_key`), which sorts in time
order under that collation on every dialect and never loses an offset or a microsecond.

The migrations in ``migrations/versions`` create exactly these tables; a test compares
the two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    literal,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import TypeCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from crmcore.query.search import SEARCH_FIELDS
from crmcore.storage.ports import RECORD_KINDS
from crmcore.storage.sqlalchemy._last import remember_last
from crmcore.storage.sqlalchemy._money import MICRO_UNITS

__all__ = [
    "DECLARED_INDEX",
    "DIGEST_COLUMN",
    "HISTORY",
    "INDEX",
    "INDEX_BACKFILL",
    "INDEX_TEXT_LENGTH",
    "KEY_COLUMNS",
    "KEY_PATHS",
    "SEQ_TYPE",
    "TABLES",
    "CodePointString",
    "CodePointText",
    "ComparableBoolean",
    "DocumentText",
    "KeyPath",
    "date_key",
    "metadata",
    "utc_key",
]

metadata = MetaData()
"""The SQLAlchemy metadata of every crmcore table."""


class CodePointString(String):
    """A ``VARCHAR`` that compares and sorts by Unicode code point, as Python does.

    PostgreSQL: ``COLLATE "C"``; MariaDB: ``utf8mb4_nopad_bin`` (MySQL 8:
    ``utf8mb4_0900_bin``), both byte order on UTF-8 without trailing-space padding;
    SQLite: its default ``BINARY`` collation.
    """

    cache_ok = True


@compiles(CodePointString, "postgresql")
def _cp_postgresql(type_: CodePointString, compiler: TypeCompiler, **kw: Any) -> str:
    return f'VARCHAR({type_.length}) COLLATE "C"'


@compiles(CodePointString, "mysql")
@compiles(CodePointString, "mariadb")
def _cp_mysql(type_: CodePointString, compiler: TypeCompiler, **kw: Any) -> str:
    dialect = compiler.dialect
    collation = "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
    return f"VARCHAR({type_.length}) CHARACTER SET utf8mb4 COLLATE {collation}"


class CodePointText(Text):
    """A ``TEXT`` of any length that compares by Unicode code point, as Python does.

    PostgreSQL: ``TEXT COLLATE "C"``; MariaDB: ``LONGTEXT`` in ``utf8mb4_nopad_bin``
    (``utf8mb4_bin`` pads trailing spaces, so ``"a" = "a "`` there); SQLite: ``TEXT``.
    """

    cache_ok = True


@compiles(CodePointText, "postgresql")
def _cpt_postgresql(type_: CodePointText, compiler: TypeCompiler, **kw: Any) -> str:
    return 'TEXT COLLATE "C"'


@compiles(CodePointText, "mysql")
@compiles(CodePointText, "mariadb")
def _cpt_mysql(type_: CodePointText, compiler: TypeCompiler, **kw: Any) -> str:
    dialect = compiler.dialect
    collation = "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
    return f"LONGTEXT CHARACTER SET utf8mb4 COLLATE {collation}"


SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")
"""The history's insertion counter (``INTEGER PRIMARY KEY`` on SQLite, a rowid alias)."""

DocumentText = Text().with_variant(
    mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
"""The column type of a record's JSON document (``LONGTEXT`` on MariaDB/MySQL)."""


@remember_last
def utc_key(value: dt.datetime) -> str:
    """Return the sortable text of an aware datetime: UTC ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def date_key(value: dt.date) -> str:
    """Return the sortable text of a date: ``YYYY-MM-DD``."""
    return value.isoformat()


_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
}


def _id() -> Column[str]:
    return Column("id", CodePointString(64), primary_key=True, autoincrement=False)


def _ts(name: str, *, nullable: bool = False) -> Column[str]:
    return Column(name, CodePointString(32), nullable=nullable)


DIGEST_COLUMN = "doc_digest"
"""Revision 0005: the digest of ``doc`` the store wrote with the row (see ``_trusted``).

The last column of every record table; NULL in rows written before the revision, which
are read checked.
"""


def _digest() -> Column[str]:
    return Column(DIGEST_COLUMN, String(16), nullable=True)


customers = Table(
    "crm_customer",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("kind", CodePointString(16), nullable=False),
    Column("display_name", CodePointString(512), nullable=False),
    Column("lifecycle_stage", CodePointString(32), nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    Column("acquired_on", CodePointString(10), nullable=True),
    Column("doc", DocumentText, nullable=False),
    # Revision 0002: text search, a column per search field (see _search); NULL in rows
    # not yet backfilled.
    *(Column(field.column, DocumentText, nullable=True) for field in SEARCH_FIELDS),
    _digest(),
    Index("ix_crm_customer_display_name", "display_name", "id"),
    Index("ix_crm_customer_created_at", "created_at", "id"),
    Index("ix_crm_customer_updated_at", "updated_at", "id"),
    Index("ix_crm_customer_lifecycle_stage", "lifecycle_stage", "id"),
    **_TABLE_OPTIONS,
)

# Revision 0004 added the typed columns below the document of each record table. They
# are nullable only because rows written before 0004 hold NULL until the backfill
# (_typed_backfill) reaches them; every row written since has them set (``cost_micros``,
# ``category`` of a purchase, ``root_cause`` and the due and reply times of a complaint
# are NULL when the record has none).

interactions = Table(
    "crm_interaction",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("customer_id", CodePointString(64), nullable=False),
    Column("channel", CodePointString(32), nullable=False),
    Column("direction", CodePointString(16), nullable=False),
    _ts("occurred_at"),
    _ts("created_at"),
    Column("doc", DocumentText, nullable=False),
    Column("major_event", Boolean(create_constraint=False), nullable=True),
    _digest(),
    Index("ix_crm_interaction_customer", "customer_id", "occurred_at", "id"),
    Index("ix_crm_interaction_occurred_at", "occurred_at", "id"),
    Index("ix_crm_interaction_channel", "channel", "occurred_at", "id"),
    **_TABLE_OPTIONS,
)

complaints = Table(
    "crm_complaint",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("customer_id", CodePointString(64), nullable=False),
    Column("state", CodePointString(32), nullable=False),
    Column("severity", CodePointString(16), nullable=False),
    _ts("received_at"),
    _ts("created_at"),
    Column("doc", DocumentText, nullable=False),
    Column("category", CodePointString(128), nullable=True),
    Column("root_cause", CodePointString(256), nullable=True),
    Column("channel", CodePointString(32), nullable=True),
    _ts("response_due", nullable=True),
    _ts("resolution_due", nullable=True),
    _ts("responded_at", nullable=True),
    _ts("resolved_at", nullable=True),
    _digest(),
    Index("ix_crm_complaint_customer", "customer_id", "received_at", "id"),
    Index("ix_crm_complaint_state", "state", "id"),
    Index("ix_crm_complaint_category", "category", "received_at", "id"),
    Index("ix_crm_complaint_root_cause", "root_cause", "id"),
    Index("ix_crm_complaint_response_due", "response_due", "id"),
    Index("ix_crm_complaint_resolution_due", "resolution_due", "id"),
    **_TABLE_OPTIONS,
)

purchases = Table(
    "crm_purchase",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("customer_id", CodePointString(64), nullable=False),
    _ts("purchased_at"),
    _ts("created_at"),
    Column("doc", DocumentText, nullable=False),
    Column("amount_micros", BigInteger, nullable=True),
    Column("currency", CodePointString(3), nullable=True),
    Column("cost_micros", BigInteger, nullable=True),
    Column("category", CodePointString(128), nullable=True),
    # The decimal places the amount and the cost were written with, so sums computed
    # in SQL come back with the exponent Python's own sums have.
    Column("amount_places", SmallInteger, nullable=True),
    Column("cost_places", SmallInteger, nullable=True),
    _digest(),
    Index("ix_crm_purchase_purchased_at", "purchased_at", "id"),
    # Revision 0008 (0004 before it, with purchased_at second): covering for
    # per-customer, per-currency summaries, in the order they group by.
    Index(
        "ix_crm_purchase_customer_currency",
        "customer_id",
        "currency",
        "purchased_at",
        "amount_micros",
        "cost_micros",
        "amount_places",
        "cost_places",
        "id",
    ),
    **_TABLE_OPTIONS,
)

merges = Table(
    "crm_merge",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("survivor_id", CodePointString(64), nullable=False),
    _ts("at"),
    _ts("created_at"),
    _ts("undone_at", nullable=True),
    Column("doc", DocumentText, nullable=False),
    _digest(),
    Index("ix_crm_merge_survivor", "survivor_id", "at", "id"),
    Index("ix_crm_merge_at", "at", "id"),
    **_TABLE_OPTIONS,
)
"""Revision 0006: the lineage of merges (:class:`~crmcore.models.MergeRecord`).

A merged-away id resolves through the change history (its ``merged`` record, found by
``ix_crm_history_customer``); the merges into a customer by ``ix_crm_merge_survivor``.
"""

not_duplicates = Table(
    "crm_not_duplicate",
    metadata,
    _id(),
    Column("version", Integer, nullable=False),
    Column("first_id", CodePointString(64), nullable=False),
    Column("second_id", CodePointString(64), nullable=False),
    _ts("decided_at"),
    _ts("created_at"),
    Column("doc", DocumentText, nullable=False),
    _digest(),
    Index("ix_crm_not_duplicate_first", "first_id", "second_id"),
    Index("ix_crm_not_duplicate_second", "second_id", "first_id"),
    **_TABLE_OPTIONS,
)
"""Revision 0010: reviewers' "not a duplicate" decisions (:class:`~crmcore.models.NotDuplicate`).

The decisions naming a customer are found by either index, whichever side names it.
"""

merged_ids = Table(
    "crm_merged_id",
    metadata,
    Column("customer_id", CodePointString(64), primary_key=True),
    Column("merge_id", CodePointString(64), primary_key=True),
    Column("survivor_id", CodePointString(64), nullable=False),
    **_TABLE_OPTIONS,
)
"""Revision 0010: each customer a standing merge removed, with the merge and its survivor.

Written with the merge record and deleted when it is undone, so a merged-away id
resolves by one primary-key lookup even when the change history is off.
"""

HISTORY = Table(
    "crm_history",
    metadata,
    Column("seq", SEQ_TYPE, primary_key=True, autoincrement=True),
    Column("id", CodePointString(64), nullable=False, unique=True),
    Column("customer_id", CodePointString(64), nullable=False),
    _ts("at"),
    Column("version", Integer, nullable=False),
    Column("doc", DocumentText, nullable=False),
    Index("ix_crm_history_customer", "customer_id", "at", "version", "seq"),
    **_TABLE_OPTIONS,
)
"""The append-only change history of customers."""

INDEX_TEXT_LENGTH = 255
"""The characters of a text entry held in the indexed ``text_value`` column.

Longer text keeps its first 255 characters there and the whole value in ``text_full``;
255 characters of utf8mb4 keep MariaDB's (path, text_value, customer_id) key within its
3,072-byte limit.
"""

_TEXT_ROWS: dict[str, Any] = {
    "sqlite_where": text("text_value IS NOT NULL"),
    "postgresql_where": text("text_value IS NOT NULL"),
}
_NUMBER_ROWS: dict[str, Any] = {
    "sqlite_where": text("number_value IS NOT NULL"),
    "postgresql_where": text("number_value IS NOT NULL"),
}
"""Partial indexes where the dialect has them: each value index holds only its own rows."""

INDEX = Table(
    "crm_customer_index",
    metadata,
    Column("customer_id", CodePointString(64), primary_key=True, autoincrement=False),
    Column("path", CodePointString(128), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("text_value", CodePointString(INDEX_TEXT_LENGTH), nullable=True),
    Column("text_full", CodePointText(), nullable=True),
    Column("number_value", BigInteger, nullable=True),
    Index("ix_crm_customer_index_text", "path", "text_value", "customer_id", **_TEXT_ROWS),
    Index("ix_crm_customer_index_number", "path", "number_value", "customer_id", **_NUMBER_ROWS),
    # SQLite: the primary key is the table (no rowid B-tree besides it): half the write cost.
    sqlite_with_rowid=False,
    **_TABLE_OPTIONS,
)
"""Revision 0003: one row per indexed value of a customer (:mod:`crmcore.storage.indexing`).

Text entries fill ``text_value`` (``text_full`` only when longer than
:data:`INDEX_TEXT_LENGTH`), integer and boolean entries ``number_value``.
"""

DECLARED_INDEX = Table(
    "crm_declared_index",
    metadata,
    Column("path", CodePointString(128), primary_key=True),
    **_TABLE_OPTIONS,
)
"""Revision 0003: the customer paths an application declared indexed, beyond the defaults."""

INDEX_BACKFILL = Table(
    "crm_index_backfill",
    metadata,
    Column("path", CodePointString(128), primary_key=True),
    Column("after_id", CodePointString(64), nullable=True),
    **_TABLE_OPTIONS,
)
"""Revision 0003: index backfills not finished yet (``"*"``: every path), and how far they got.

A row is a backfill in progress: customers up to ``after_id`` (in id order) have their
entries; the row is deleted when the last batch commits.
"""

TABLES: dict[str, Table] = {kind: metadata.tables[f"crm_{kind}"] for kind in RECORD_KINDS}
"""The table of each record kind of :data:`~crmcore.storage.ports.RECORD_KINDS`: ``crm_<kind>``."""

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(c.name for c in table.columns if c.name not in ("doc", DIGEST_COLUMN))
    for kind, table in TABLES.items()
}
"""The columns besides ``doc`` and its digest of each record kind, in table order."""


class ComparableBoolean(TypeDecorator[bool]):
    """A boolean column that also compares with ``<``, ``>`` and friends, as Python's bools do.

    SQLAlchemy refuses ``column > True`` (a Python constant); keyset pages over a boolean
    ordering need it, so comparisons bind the operand as a typed parameter instead
    (``false < true`` on every dialect, as ``False < True`` in Python).
    """

    impl = Boolean
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[bool]):
        """Comparisons with Python bools bound as parameters."""

        __slots__ = ()

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            """Bind a bool operand as a parameter; everything else as usual."""
            if len(other) == 1 and isinstance(other[0], bool):
                other = (literal(other[0], Boolean(create_constraint=False)),)
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator


@attrs.frozen
class KeyPath:
    """Where a query path is held exactly: a typed column of the record's table.

    Attributes:
        column: The column's name.
        nullable: Whether the path can be ``None`` in a record.
        type: The type to compare the column as (``None``: the column's own).
    """

    column: str
    nullable: bool
    type: TypeEngine[Any] | None = None


KEY_PATHS: dict[str, dict[str, KeyPath]] = {
    "purchase": {
        "amount.amount": KeyPath("amount_micros", nullable=False, type=MICRO_UNITS),
        "amount.currency": KeyPath("currency", nullable=False),
        "cost.amount": KeyPath("cost_micros", nullable=True, type=MICRO_UNITS),
        "category": KeyPath("category", nullable=True),
    },
    "complaint": {
        "category": KeyPath("category", nullable=False),
        "root_cause": KeyPath("root_cause", nullable=True),
        "channel": KeyPath("channel", nullable=False),
        "response_due": KeyPath("response_due", nullable=True),
        "resolution_due": KeyPath("resolution_due", nullable=True),
    },
    "interaction": {
        "major_event": KeyPath("major_event", nullable=False, type=ComparableBoolean()),
    },
}
"""The query paths of each record kind held exactly by a typed column (revision 0004).

The query compiler (``_query``) reads these instead of the document: ``nullable`` says
whether the path can be ``None`` in a record (the columns themselves are nullable only
for rows the backfill has not reached), and ``type`` is the type the column is compared
as (money: :data:`~crmcore.storage.sqlalchemy._money.MICRO_UNITS`, whose comparisons
turn a decimal operand into millionths, rounding in the direction that keeps each
comparison exact). Undotted paths that name a key column are found without an entry.
"""

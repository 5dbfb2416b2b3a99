"""Filling the typed record columns of revision 0004 from the stored JSON documents.

Revision 0004 adds typed columns to purchases (``amount_micros``, ``currency``,
``cost_micros``, ``category``), complaints (``category``, ``root_cause``, ``channel``,
the due dates and the first-response and resolution times) and interactions
(``major_event``). Rows written before it hold ``NULL`` there until
:func:`backfill_typed_columns` reads their documents and fills them.

The backfill works in batches and only on rows not yet filled (each table has a column
that is never ``NULL`` once filled), so running it again after an interruption goes on
where it stopped, and running it on a filled database does nothing. The values come
from :func:`crmcore.storage.sqlalchemy._backend.record_row`, the function every write
uses, so a backfilled row is identical to one written by this version.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crmcore.errors import StorageError, ValidationError
from crmcore.storage.ports import RECORD_TYPES, RecordKind

__all__ = ["FILLED_MARKERS", "TYPED_COLUMNS", "backfill_typed_columns"]

TYPED_COLUMNS: dict[RecordKind, tuple[str, ...]] = {
    "purchase": (
        "amount_micros",
        "currency",
        "cost_micros",
        "category",
        "amount_places",
        "cost_places",
    ),
    "complaint": (
        "category",
        "root_cause",
        "channel",
        "response_due",
        "resolution_due",
        "responded_at",
        "resolved_at",
    ),
    "interaction": ("major_event",),
}
"""The columns revision 0004 adds to each record table, which the backfill fills."""

FILLED_MARKERS: dict[RecordKind, str] = {
    "purchase": "amount_micros",
    "complaint": "category",
    "interaction": "major_event",
}
"""For each table, the typed column that is ``NULL`` exactly in rows not yet filled."""

Progress = Callable[[str, int], None]
"""Called after each batch with the record kind and the rows of it filled so far."""


def _table(kind: RecordKind) -> sa.TableClause:
    # A lightweight table naming only what the backfill touches, so later revisions
    # that change other columns leave this function working.
    return sa.table(
        f"crm_{kind}",
        sa.column("id", sa.String),
        sa.column("doc", sa.Text),
        *(sa.column(name) for name in TYPED_COLUMNS[kind]),
    )


def _unreadable(kind: str, failures: list[tuple[str, str]]) -> StorageError:
    shown = "; ".join(f"{record_id}: {reason}" for record_id, reason in failures[:5])
    more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
    return StorageError(
        f"cannot fill the typed columns of {len(failures)} {kind} row(s) whose documents "
        f"this version of crmcore refuses: {shown}{more}; correct those records "
        "(or restore them) and upgrade again"
    )


def backfill_typed_columns(
    connection: Connection, *, batch_size: int = 1000, progress: Progress | None = None
) -> int:
    """Fill the typed columns of every row written before revision 0004; return how many.

    Reads ``batch_size`` documents at a time, in id order, from the rows whose marker
    column (:data:`FILLED_MARKERS`) is ``NULL``, and writes their typed columns with the
    values a write of the same record stores. It does not commit: the caller's
    transaction (the migration's) does.

    Raises:
        StorageError: A document cannot be read by this version of crmcore (an amount
            with more than six decimal places, say); nothing of its batch was written
            and the message names the rows.
        ValueError: ``batch_size`` is not positive.
    """
    from crmcore.storage.sqlalchemy._codec import decode
    from crmcore.storage.sqlalchemy._rows import record_row

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    total = 0
    for kind, columns in TYPED_COLUMNS.items():
        table = _table(kind)
        marker = table.c[FILLED_MARKERS[kind]]
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values({name: sa.bindparam(f"new_{name}") for name in columns})
        )
        model = RECORD_TYPES[kind]
        done = 0
        last = ""
        while True:
            rows = connection.execute(
                sa.select(table.c.id, table.c.doc)
                .where(marker.is_(None), table.c.id > last)
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            params = []
            failures: list[tuple[str, str]] = []
            for record_id, doc in rows:
                try:
                    row = record_row(kind, decode(doc, model))
                except (ValidationError, ValueError) as error:
                    failures.append((record_id, str(error)))
                    continue
                params.append({"row_id": record_id, **{f"new_{n}": row[n] for n in columns}})
            if failures:
                raise _unreadable(kind, failures)
            connection.execute(update, params)
            done += len(rows)
            last = rows[-1][0]
            if progress is not None:
                progress(kind, done)
        total += done
    return total

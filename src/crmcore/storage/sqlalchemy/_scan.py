"""Streamed reads: a record table's documents in id order, one keyset query per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Table, bindparam, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection

from crmcore.storage.ports import Record
from crmcore.storage.sqlalchemy._driver_errors import translated

__all__ = ["batches"]


def batches(
    connection: Callable[[], Connection],
    table: Table,
    read_row: Callable[[Any], Record],
    batch_size: int,
    where: ColumnElement[bool] | None,
    *,
    as_bytes: bool,
) -> Iterator[Iterator[Record]]:
    """Yield the records of ``table`` matching ``where`` in id order, a batch per query.

    Each query takes ``(id, doc, doc_digest)`` rows after the last id of the batch before
    (keyset paging, ``batch_size`` rows a query); a batch is ``map(read_row, rows)``, read
    only as it is consumed, so no generator resumes per record. ``as_bytes`` (a fast path,
    SQLite only) selects the document as its stored UTF-8 bytes, so neither the driver's
    decoding nor the digest's encoding runs (the readers take bytes). ``connection`` is
    called for each query (the transaction's connection, inside driver-error translation).
    """
    doc = sql_cast(table.c.doc, LargeBinary) if as_bytes else table.c.doc
    first = select(table.c.id, doc, table.c.doc_digest).order_by(table.c.id).limit(batch_size)
    if where is not None:
        first = first.where(where)
    after = first.where(table.c.id > bindparam("after"))
    last: str | None = None
    while True:
        with translated():
            conn = connection()
            if last is None:
                rows = conn.execute(first).all()
            else:
                rows = conn.execute(after, {"after": last}).all()
        yield map(read_row, rows)
        if len(rows) < batch_size:
            return
        last = rows[-1][0]

"""The ``crm_merged_id`` table: each customer a standing merge removed (revision 0010).

The backend writes it with every merge record it inserts, updates or deletes, in the
same transaction: one row per merged-away id while the merge stands, none once it is
undone. :func:`merged_into` answers "which merge removed this id" by the table's
primary key, so a merged-away id resolves without the change history and without
reading every merge record.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from crmcore.models import MergeRecord
from crmcore.storage.ports import Record
from crmcore.storage.sqlalchemy._schema import merged_ids, merges

__all__ = ["delete_rows", "merged_into", "rewrite_rows", "write_rows"]


def write_rows(conn: Connection, records: Sequence[Record]) -> None:
    """Add the merged-away ids of the standing merges among ``records``."""
    rows = [
        {"customer_id": cid, "merge_id": r.id, "survivor_id": r.survivor_id}
        for r in records
        if isinstance(r, MergeRecord) and r.undone_at is None
        for cid in r.merged_ids
    ]
    if rows:
        conn.execute(merged_ids.insert(), rows)


def delete_rows(conn: Connection, merge_ids: Sequence[str]) -> None:
    """Remove the rows of the merges ``merge_ids``."""
    if merge_ids:
        conn.execute(merged_ids.delete().where(merged_ids.c.merge_id.in_(list(merge_ids))))


def rewrite_rows(conn: Connection, record: Record) -> None:
    """The rows of an updated merge record (none once it is undone)."""
    delete_rows(conn, [record.id])
    write_rows(conn, [record])


def merged_into(conn: Connection, customer_id: str) -> tuple[str, str] | None:
    """The survivor and merge of the latest standing merge that removed ``customer_id``."""
    row = conn.execute(
        select(merged_ids.c.survivor_id, merged_ids.c.merge_id)
        .join(merges, merges.c.id == merged_ids.c.merge_id)
        .where(merged_ids.c.customer_id == customer_id)
        .order_by(merges.c.at.desc(), merges.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))

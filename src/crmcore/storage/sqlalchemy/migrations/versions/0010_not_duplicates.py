"""Decisions and merged ids: the ``crm_not_duplicate`` and ``crm_merged_id`` tables.

``crm_not_duplicate`` holds reviewers' "not a duplicate" decisions
(:class:`crmcore.models.NotDuplicate`): the whole record as a JSON document, the two
customer ids, the decision's time and the document's digest as key columns, each id
indexed. ``crm_merged_id`` holds one row per customer a standing merge removed (the
merge and its survivor), so a merged-away id resolves by its primary key when the
change history is off; it is backfilled here from the merges not undone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from crmcore.storage.sqlalchemy._schema import CodePointString, DocumentText

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
}


def upgrade() -> None:
    op.create_table(
        "crm_not_duplicate",
        sa.Column("id", CodePointString(64), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_id", CodePointString(64), nullable=False),
        sa.Column("second_id", CodePointString(64), nullable=False),
        sa.Column("decided_at", CodePointString(32), nullable=False),
        sa.Column("created_at", CodePointString(32), nullable=False),
        sa.Column("doc", DocumentText, nullable=False),
        sa.Column("doc_digest", sa.String(16), nullable=True),
        **OPTIONS,
    )
    op.create_index("ix_crm_not_duplicate_first", "crm_not_duplicate", ["first_id", "second_id"])
    op.create_index("ix_crm_not_duplicate_second", "crm_not_duplicate", ["second_id", "first_id"])
    merged = op.create_table(
        "crm_merged_id",
        sa.Column("customer_id", CodePointString(64), primary_key=True),
        sa.Column("merge_id", CodePointString(64), primary_key=True),
        sa.Column("survivor_id", CodePointString(64), nullable=False),
        **OPTIONS,
    )
    if context.is_offline_mode():
        return
    rows = op.get_bind().execute(
        sa.text("SELECT id, survivor_id, doc FROM crm_merge WHERE undone_at IS NULL")
    )
    backfill = [
        {"customer_id": cid, "merge_id": merge_id, "survivor_id": survivor}
        for merge_id, survivor, doc in rows
        for cid in json.loads(doc).get("merged_ids", ())
    ]
    if backfill:
        op.bulk_insert(merged, backfill)


def downgrade() -> None:
    op.drop_table("crm_merged_id")
    op.drop_index("ix_crm_not_duplicate_second", table_name="crm_not_duplicate")
    op.drop_index("ix_crm_not_duplicate_first", table_name="crm_not_duplicate")
    op.drop_table("crm_not_duplicate")

"""Merges: the ``crm_merge`` table of merge lineage records, with its indexes.

One row per merge of duplicate customers (:class:`crmcore.models.MergeRecord`): the
whole record as a JSON document, plus the survivor, the merge's time, when it was
undone and the document's digest as key columns. ``ix_crm_merge_survivor`` finds the
merges into a customer; a merged-away id resolves through its ``merged`` change record
(``ix_crm_history_customer``, revision 0001). Nothing to backfill: the table starts
empty.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from crmcore.storage.sqlalchemy._schema import CodePointString, DocumentText

revision: str = "0006"
down_revision: str | None = "0005"
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
        "crm_merge",
        sa.Column("id", CodePointString(64), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("survivor_id", CodePointString(64), nullable=False),
        sa.Column("at", CodePointString(32), nullable=False),
        sa.Column("created_at", CodePointString(32), nullable=False),
        sa.Column("undone_at", CodePointString(32), nullable=True),
        sa.Column("doc", DocumentText, nullable=False),
        sa.Column("doc_digest", sa.String(16), nullable=True),
        **OPTIONS,
    )
    op.create_index("ix_crm_merge_survivor", "crm_merge", ["survivor_id", "at", "id"])
    op.create_index("ix_crm_merge_at", "crm_merge", ["at", "id"])


def downgrade() -> None:
    op.drop_index("ix_crm_merge_at", table_name="crm_merge")
    op.drop_index("ix_crm_merge_survivor", table_name="crm_merge")
    op.drop_table("crm_merge")

"""The customer index table, declared indexes, and the backfill of existing customers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

The DDL runs in the upgrade's transaction, with a pending backfill of every indexed
path (a ``crm_index_backfill`` row ``"*"``). The backfill itself runs after that
transaction commits, in committed batches (``crmcore.storage.sqlalchemy.upgrade`` calls
:func:`crmcore.storage.sqlalchemy._index.run_backfills`), so an interrupted one resumes
where it stopped; until it finishes, backends refuse to open the database's index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from crmcore.storage.sqlalchemy._schema import INDEX_TEXT_LENGTH, CodePointString, CodePointText

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
}


def upgrade() -> None:
    op.create_table(
        "crm_customer_index",
        sa.Column("customer_id", CodePointString(64), primary_key=True, autoincrement=False),
        sa.Column("path", CodePointString(128), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("text_value", CodePointString(INDEX_TEXT_LENGTH), nullable=True),
        sa.Column("text_full", CodePointText(), nullable=True),
        sa.Column("number_value", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
        **_OPTIONS,
    )
    op.create_index(
        "ix_crm_customer_index_text",
        "crm_customer_index",
        ["path", "text_value", "customer_id"],
        sqlite_where=sa.text("text_value IS NOT NULL"),
        postgresql_where=sa.text("text_value IS NOT NULL"),
    )
    op.create_index(
        "ix_crm_customer_index_number",
        "crm_customer_index",
        ["path", "number_value", "customer_id"],
        sqlite_where=sa.text("number_value IS NOT NULL"),
        postgresql_where=sa.text("number_value IS NOT NULL"),
    )
    op.create_table(
        "crm_declared_index",
        sa.Column("path", CodePointString(128), primary_key=True),
        **_OPTIONS,
    )
    backfill = op.create_table(
        "crm_index_backfill",
        sa.Column("path", CodePointString(128), primary_key=True),
        sa.Column("after_id", CodePointString(64), nullable=True),
        **_OPTIONS,
    )
    op.bulk_insert(backfill, [{"path": "*", "after_id": None}])


def downgrade() -> None:
    op.drop_table("crm_index_backfill")
    op.drop_table("crm_declared_index")
    op.drop_index("ix_crm_customer_index_number", table_name="crm_customer_index")
    op.drop_index("ix_crm_customer_index_text", table_name="crm_customer_index")
    op.drop_table("crm_customer_index")

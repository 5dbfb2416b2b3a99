"""Initial schema: record tables, change history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from crmcore.storage.sqlalchemy._schema import SEQ_TYPE, CodePointString, DocumentText

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
}


def _id() -> sa.Column[str]:
    return sa.Column("id", CodePointString(64), primary_key=True, autoincrement=False)


def _ts(name: str) -> sa.Column[str]:
    return sa.Column(name, CodePointString(32), nullable=False)


def upgrade() -> None:
    op.create_table(
        "crm_customer",
        _id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", CodePointString(16), nullable=False),
        sa.Column("display_name", CodePointString(512), nullable=False),
        sa.Column("lifecycle_stage", CodePointString(32), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("acquired_on", CodePointString(10), nullable=True),
        sa.Column("doc", DocumentText, nullable=False),
        **OPTIONS,
    )
    op.create_index("ix_crm_customer_display_name", "crm_customer", ["display_name", "id"])
    op.create_index("ix_crm_customer_created_at", "crm_customer", ["created_at", "id"])
    op.create_index("ix_crm_customer_updated_at", "crm_customer", ["updated_at", "id"])
    op.create_index("ix_crm_customer_lifecycle_stage", "crm_customer", ["lifecycle_stage", "id"])

    op.create_table(
        "crm_interaction",
        _id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("customer_id", CodePointString(64), nullable=False),
        sa.Column("channel", CodePointString(32), nullable=False),
        sa.Column("direction", CodePointString(16), nullable=False),
        _ts("occurred_at"),
        _ts("created_at"),
        sa.Column("doc", DocumentText, nullable=False),
        **OPTIONS,
    )
    op.create_index(
        "ix_crm_interaction_customer", "crm_interaction", ["customer_id", "occurred_at", "id"]
    )
    op.create_index("ix_crm_interaction_occurred_at", "crm_interaction", ["occurred_at", "id"])

    op.create_table(
        "crm_complaint",
        _id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("customer_id", CodePointString(64), nullable=False),
        sa.Column("state", CodePointString(32), nullable=False),
        sa.Column("severity", CodePointString(16), nullable=False),
        _ts("received_at"),
        _ts("created_at"),
        sa.Column("doc", DocumentText, nullable=False),
        **OPTIONS,
    )
    op.create_index(
        "ix_crm_complaint_customer", "crm_complaint", ["customer_id", "received_at", "id"]
    )
    op.create_index("ix_crm_complaint_state", "crm_complaint", ["state", "id"])

    op.create_table(
        "crm_purchase",
        _id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("customer_id", CodePointString(64), nullable=False),
        _ts("purchased_at"),
        _ts("created_at"),
        sa.Column("doc", DocumentText, nullable=False),
        **OPTIONS,
    )
    op.create_index(
        "ix_crm_purchase_customer", "crm_purchase", ["customer_id", "purchased_at", "id"]
    )
    op.create_index("ix_crm_purchase_purchased_at", "crm_purchase", ["purchased_at", "id"])

    op.create_table(
        "crm_history",
        sa.Column("seq", SEQ_TYPE, primary_key=True, autoincrement=True),
        sa.Column("id", CodePointString(64), nullable=False, unique=True),
        sa.Column("customer_id", CodePointString(64), nullable=False),
        _ts("at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", DocumentText, nullable=False),
        **OPTIONS,
    )
    op.create_index(
        "ix_crm_history_customer", "crm_history", ["customer_id", "at", "version", "seq"]
    )


def downgrade() -> None:
    for table in ("crm_history", "crm_purchase", "crm_complaint", "crm_interaction"):
        op.drop_table(table)
    op.drop_table("crm_customer")

"""Customer search columns: search_text and search_digits, backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from crmcore.storage.sqlalchemy._schema import DocumentText

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("crm_customer", sa.Column("search_text", DocumentText, nullable=True))
    op.add_column("crm_customer", sa.Column("search_digits", DocumentText, nullable=True))
    if not context.is_offline_mode():
        # Offline (SQL script) upgrades leave the columns NULL: such rows stay search
        # candidates, so results are still right, only not pre-filtered.
        _backfill()


def _backfill() -> None:
    """Fill the columns of existing customers (rows left NULL would still be found)."""
    from crmcore.models import Customer
    from crmcore.storage.sqlalchemy._codec import decode
    from crmcore.storage.sqlalchemy._search import search_columns

    bind = op.get_bind()
    table = sa.table(
        "crm_customer",
        sa.column("id", sa.String),
        sa.column("doc", sa.Text),
        sa.column("search_text", sa.Text),
        sa.column("search_digits", sa.Text),
    )
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("key"))
        .values(search_text=sa.bindparam("text"), search_digits=sa.bindparam("digits"))
    )
    last = ""
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.doc)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        params = []
        for record_id, doc in rows:
            text, digits = search_columns(decode(doc, Customer))
            params.append({"key": record_id, "text": text, "digits": digits})
        bind.execute(update, params)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("crm_customer") as batch:
        batch.drop_column("search_digits")
        batch.drop_column("search_text")

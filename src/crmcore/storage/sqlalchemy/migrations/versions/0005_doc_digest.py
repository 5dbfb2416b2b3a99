"""Document digests: a nullable doc_digest column on every record table, not backfilled.

Rows written from this revision on carry the digest of their document, and are read
back without re-running the model checks when it matches (trusted reads, see
``crmcore.storage.sqlalchemy._trusted``). Rows already stored keep NULL, which means
"read checked", exactly as before: no backfill is needed, and none is done (a backfill
would vouch for documents nobody checked).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("crm_customer", "crm_interaction", "crm_complaint", "crm_purchase")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("doc_digest", sa.String(16), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("doc_digest")

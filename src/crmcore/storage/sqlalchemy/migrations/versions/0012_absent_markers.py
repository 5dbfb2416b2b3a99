"""Absence markers: a single-valued indexed path without a value gets an index row.

Every customer write now gives each single-valued indexed path (``person.name.family``,
``grade``, ``owner``, ...) that has no value an entry ``<path>#absent`` at position 0
with the empty text (:data:`crmcore.storage.indexing.ABSENT_SUFFIX`), so the customers
without a value are a range of the ``(path, text_value, customer_id)`` index and an
ordering that reads them first (ascending by a nullable indexed path) walks it instead
of probing every customer. Existing customers have no markers yet: this schedules a
backfill of the whole index (a ``"*"`` row in ``crm_index_backfill``, as revision 0003
does), which ``upgrade`` then runs in committed batches of 1,000 customers in id order,
replacing each batch's entries; queries are refused until it is done. Restartable: a
backfill already pending is left as it is.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmcore.storage.sqlalchemy._migrate import schedule_backfill

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schedule_backfill("*")


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM crm_customer_index WHERE path LIKE '%#absent'"))

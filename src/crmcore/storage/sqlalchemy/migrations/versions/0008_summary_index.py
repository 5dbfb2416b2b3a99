"""The purchase index leads with customer and currency, the keys summaries group by.

Replaces ``ix_crm_purchase_customer_amount`` (``customer_id, purchased_at,
amount_micros, currency, ...``) by ``ix_crm_purchase_customer_currency``
(``customer_id, currency, purchased_at, amount_micros, cost_micros, amount_places,
cost_places, id``): the same columns, so it still covers every per-customer summary,
but in the order of ``GROUP BY customer_id, currency``, so the summaries, repeat
summaries, RFM, pyramid and Pareto statements read it in order and need no sort
(SQLite planned ``USE TEMP B-TREE FOR GROUP BY`` over every purchase before; on
200,000 purchases the summary statement took 2.3x the hand-written query on a
hand-designed index, and the same time with this one). A customer's purchases are
still found by the leading ``customer_id``.

Restartable: an index that already exists is left alone; the old one is dropped if
present.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "crm_purchase"
NEW = (
    "ix_crm_purchase_customer_currency",
    [
        "customer_id",
        "currency",
        "purchased_at",
        "amount_micros",
        "cost_micros",
        "amount_places",
        "cost_places",
        "id",
    ],
)
OLD = (
    "ix_crm_purchase_customer_amount",
    [
        "customer_id",
        "purchased_at",
        "amount_micros",
        "currency",
        "cost_micros",
        "amount_places",
        "cost_places",
        "id",
    ],
)


def _indexes() -> set[str] | None:
    if context.is_offline_mode():
        return None
    return {str(i["name"]) for i in sa.inspect(op.get_bind()).get_indexes(TABLE)}


def upgrade() -> None:
    indexed = _indexes()
    if indexed is None or NEW[0] not in indexed:
        op.create_index(NEW[0], TABLE, NEW[1])
    if indexed is None or OLD[0] in indexed:
        op.drop_index(OLD[0], table_name=TABLE)


def downgrade() -> None:
    op.create_index(OLD[0], TABLE, OLD[1])
    op.drop_index(NEW[0], table_name=TABLE)

"""Typed record columns: money, categories, due dates, channels; indexed and backfilled.

Adds exact money columns to purchases (``amount_micros``, ``cost_micros``: BIGINT
counts of millionths; ``currency``; ``category``) and replaces the purchase index
``(customer_id, purchased_at, id)`` by ``(customer_id, purchased_at, amount_micros,
currency, cost_micros, id)``, which covers per-customer summaries; the columns
complaint views filter and group by (``category``, ``root_cause``, ``channel``, ``response_due``,
``resolution_due``, ``responded_at``, ``resolved_at``) and interactions'
``major_event``, with their indexes, then fills them from the stored documents in
batches of 1,000 (:func:`crmcore.storage.sqlalchemy._typed_backfill.backfill_typed_columns`).

Restartable: a column or index that already exists is left alone (MariaDB commits each
DDL statement, so an interrupted upgrade there keeps what it created), and the backfill
only reads rows it has not filled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from crmcore.storage.sqlalchemy._schema import CodePointString

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

_log = logging.getLogger("crmcore.migrations")


def _ts(name: str) -> sa.Column[str]:
    return sa.Column(name, CodePointString(32), nullable=True)


def _columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "crm_purchase": [
            sa.Column("amount_micros", sa.BigInteger, nullable=True),
            sa.Column("currency", CodePointString(3), nullable=True),
            sa.Column("cost_micros", sa.BigInteger, nullable=True),
            sa.Column("category", CodePointString(128), nullable=True),
            sa.Column("amount_places", sa.SmallInteger, nullable=True),
            sa.Column("cost_places", sa.SmallInteger, nullable=True),
        ],
        "crm_complaint": [
            sa.Column("category", CodePointString(128), nullable=True),
            sa.Column("root_cause", CodePointString(256), nullable=True),
            sa.Column("channel", CodePointString(32), nullable=True),
            _ts("response_due"),
            _ts("resolution_due"),
            _ts("responded_at"),
            _ts("resolved_at"),
        ],
        "crm_interaction": [
            sa.Column("major_event", sa.Boolean(create_constraint=False), nullable=True),
        ],
    }


INDEXES: dict[str, list[tuple[str, list[str]]]] = {
    "crm_purchase": [
        (
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
        ),
    ],
    "crm_complaint": [
        ("ix_crm_complaint_category", ["category", "received_at", "id"]),
        ("ix_crm_complaint_root_cause", ["root_cause", "id"]),
        ("ix_crm_complaint_response_due", ["response_due", "id"]),
        ("ix_crm_complaint_resolution_due", ["resolution_due", "id"]),
    ],
    "crm_interaction": [
        ("ix_crm_interaction_channel", ["channel", "occurred_at", "id"]),
    ],
}


REPLACED = ("ix_crm_purchase_customer", ["customer_id", "purchased_at", "id"])
"""The index of revision 0001 that ``ix_crm_purchase_customer_amount`` replaces."""


def _progress(kind: str, done: int) -> None:
    _log.info("typed columns: %d %s rows filled", done, kind)


def upgrade() -> None:
    offline = context.is_offline_mode()
    existing: dict[str, set[str]] = {}
    indexed: dict[str, set[str]] = {}
    if not offline:
        inspector = sa.inspect(op.get_bind())
        for table in INDEXES:
            existing[table] = {c["name"] for c in inspector.get_columns(table)}
            indexed[table] = {str(i["name"]) for i in inspector.get_indexes(table)}
    for table, columns in _columns().items():
        for column in columns:
            if column.name not in existing.get(table, ()):
                op.add_column(table, column)
    if not offline:
        # Offline (SQL script) upgrades cannot read documents: run
        # backfill_typed_columns afterwards, before the application uses the columns.
        from crmcore.storage.sqlalchemy._typed_backfill import backfill_typed_columns

        backfill_typed_columns(op.get_bind(), batch_size=BATCH, progress=_progress)
    # Indexes last: building them once over filled columns is cheaper than keeping them
    # up to date through every batch of the backfill.
    for table, indexes in INDEXES.items():
        for name, indexed_columns in indexes:
            if name not in indexed.get(table, ()):
                op.create_index(name, table, indexed_columns)
    # The new purchase index starts with the old one's columns and serves what it did;
    # keeping both would cost every purchase write a second index entry.
    if offline or REPLACED[0] in indexed.get("crm_purchase", ()):
        op.drop_index(REPLACED[0], table_name="crm_purchase")


def downgrade() -> None:
    op.create_index(REPLACED[0], "crm_purchase", REPLACED[1])
    for table, indexes in INDEXES.items():
        for name, _columns_of in indexes:
            op.drop_index(name, table_name=table)
    for table, columns in _columns().items():
        with op.batch_alter_table(table) as batch:
            for column in reversed(columns):
                batch.drop_column(column.name)

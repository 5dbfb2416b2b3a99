"""The ``@dedupe`` blocking keys are computed anew: the ``name`` pass carries a context.

The ``name`` blocking key is now the sorted name words with the birth year (the
postal code without a birthday, as ``name_part`` has; the name alone with neither):
``name:wei zhang|1990`` where it was ``name:wei zhang``. A database that indexes the
keys (``@dedupe`` declared) holds the old ones, which would no longer meet the new
customers' keys; this revision schedules a backfill of ``@dedupe`` (a row in
``crm_index_backfill``), which ``upgrade`` then runs in committed batches, replacing
every customer's ``@dedupe.<pass>`` entries. Nothing changes where ``@dedupe`` is not
declared. Restartable: a backfill already pending is left as it is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcore.storage.sqlalchemy._migrate import schedule_backfill

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schedule_backfill("@dedupe")


def downgrade() -> None:
    # Nothing to undo in the schema; the entries keep the new keys.
    pass

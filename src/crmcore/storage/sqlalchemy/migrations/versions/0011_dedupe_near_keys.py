"""The ``@dedupe`` blocking keys are computed anew: two passes are new.

``identifier_near`` (an identifier's deletion neighbourhood, or its two halves when it
is longer than 12 characters: values one typo apart meet) and ``email_local`` (an email
address's local part: a typo in the domain, the same login at another provider) make
keys a database that indexes them (``@dedupe`` declared) does not hold yet, so blocking
inside it would no longer equal the pure rule. As revision 0009 does, this schedules a
backfill of ``@dedupe`` (a row in ``crm_index_backfill``), which ``upgrade`` then runs
in committed batches, replacing every customer's ``@dedupe.<pass>`` entries. Nothing
changes where ``@dedupe`` is not declared. Restartable: a backfill already pending is
left as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcore.storage.sqlalchemy._migrate import schedule_backfill

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schedule_backfill("@dedupe")


def downgrade() -> None:
    # Nothing to undo in the schema; the entries keep the new keys.
    pass

"""The ``@dedupe.address`` blocking keys carry the street's house numbers.

The ``address`` pass's key was the postal code and the first eight letters and digits
of the street line, which cut most western streets' numbers off, so one street was one
block that grew with the square of the base. Its key is now the postal code, the
street's first eight letters and its house numbers as separate digit runs
(``de:10115|hauptstr|12``). A database that indexes the keys (``@dedupe`` declared)
holds the old ones, so blocking inside it would no longer equal the pure rule. As
revisions 0009 and 0011 do, this schedules a backfill of ``@dedupe``, which ``upgrade``
then runs in committed batches; nothing is scheduled where ``@dedupe`` is not declared,
or where revision 0012's rewrite of the whole index is still to run (it writes the new
keys too). Restartable: a backfill already pending is left as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcore.storage.sqlalchemy._migrate import schedule_backfill

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schedule_backfill("@dedupe")


def downgrade() -> None:
    # Nothing to undo in the schema; the entries keep the new keys.
    pass

"""The ``@dedupe.address_sorted`` blocking keys: a household whose postcode digits swapped.

The new ``address_sorted`` pass keys an address by its country, its postal code's
characters sorted and the street's ``address`` value (``au:0568|minchins|11`` for the
postcodes ``6085`` and ``6058`` alike), so a copy with two postcode digits transposed
and its name replaced still meets its original. A database that indexes the keys
(``@dedupe`` declared) holds none of them, so blocking inside it would no longer equal
the pure rule. As revisions 0009, 0011 and 0013 do, this schedules a backfill of
``@dedupe``, which ``upgrade`` then runs in committed batches; nothing is scheduled where
``@dedupe`` is not declared, or where a backfill of it (0013's) or a rewrite of the
whole index (0012's) is still pending (either writes the new keys too). A backfill of
``@dedupe`` an older release left part-done wrote its first customers' keys without
``address_sorted``, so it starts over from the first customer. Restartable.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcore.storage.sqlalchemy._migrate import schedule_backfill

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A part-done backfill of @dedupe (an older release's) starts over: its first
    # customers' entries lack the new pass.
    schedule_backfill("@dedupe", restart=True)


def downgrade() -> None:
    # Nothing to undo in the schema; the entries keep the new keys.
    pass

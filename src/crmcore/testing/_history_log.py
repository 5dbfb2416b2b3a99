"""The history log of ``Backend.begin()`` transactions, tested without the store.

Change records are appended with the transaction, visible to it before commit,
never merged or overwritten (a removed and re-created customer keeps both lives),
ordered by the instant they record whatever its UTC offset, and kept across close and
reopen by a persistent backend.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo

from crmcore.models import ChangeOperation, ChangeRecord, FieldChange
from crmcore.serialization import to_dict
from crmcore.storage.ports import Backend
from crmcore.testing._fixtures import BackendFixtures, TickingClock, requires
from crmcore.testing._spi import transaction

__all__ = ["HistoryLogTests"]

_BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
_SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _fixed(instant: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``instant`` as wall-clock time in ``zone``, with a fixed offset."""
    local = instant.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=dt.timezone(offset))


def _instants() -> list[dt.datetime]:
    """Instants in instant order whose local times and texts sort in another order.

    Around Berlin's change from summer time on 2026-10-25 (``02:59:59+02:00`` is
    before ``02:00:00+01:00``), with Shanghai (``+08:00``) and New York
    (``-04:00``) in between, and one instant written in two offsets.
    """
    utc = dt.datetime(2026, 10, 25, 0, 59, 58, tzinfo=dt.UTC)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    return [
        _fixed(utc, _SHANGHAI),  # 08:59:58+08:00
        _fixed(utc + dt.timedelta(seconds=1), _BERLIN),  # 02:59:59+02:00
        _fixed(utc + dt.timedelta(seconds=2), _BERLIN),  # 02:00:00+01:00
        _fixed(utc + dt.timedelta(seconds=2), _SHANGHAI),  # the same instant, 09:00:00+08:00
        _fixed(utc + dt.timedelta(seconds=3), new_york),  # 21:00:01-04:00, the day before
        _fixed(utc + dt.timedelta(minutes=30), _BERLIN),  # 02:29:58+01:00
    ]


def _change(
    customer_id: str, version: int, at: dt.datetime, operation: ChangeOperation
) -> ChangeRecord:
    return ChangeRecord(
        customer_id=customer_id,
        operation=operation,
        at=at,
        version=version,
        actor="kit",
        source="spi",
        changes=(FieldChange(path="$.owner", old='"a"', new=f'"v{version}"'),),
    )


def _json(records: list[ChangeRecord]) -> list[object]:
    return [to_dict(r) for r in records]


class HistoryLogTests(BackendFixtures):
    """append_history() and history() at the backend's own transactions."""

    def test_own_uncommitted_history_is_visible(self, backend: Backend) -> None:
        """A transaction's history() includes the change records it appended, before commit."""
        clock = TickingClock()
        customer_id = uuid.uuid4().hex
        first = _change(customer_id, 1, clock(), ChangeOperation.CREATED)
        second = _change(customer_id, 2, clock(), ChangeOperation.UPDATED)
        with transaction(backend) as tx:
            tx.append_history([first])
            tx.commit()
        with transaction(backend) as tx:
            tx.append_history([second])
            assert _json(tx.history(customer_id)) == _json([first, second])
            assert tx.history(uuid.uuid4().hex) == []
            tx.commit()
        with transaction(backend) as tx:
            assert _json(tx.history(customer_id)) == _json([first, second])

    def test_history_is_ordered_by_instant(self, backend: Backend) -> None:
        """history() orders by instant, then version, whatever the offsets say as text."""
        customer_id = uuid.uuid4().hex
        instants = _instants()
        expected = [
            _change(customer_id, version, at, ChangeOperation.UPDATED)
            for version, at in enumerate(instants, start=1)
        ]
        shuffled = list(expected)
        random.Random(8).shuffle(shuffled)
        with transaction(backend) as tx:  # some committed, some still pending
            tx.append_history(shuffled[:3])
            tx.commit()
        with transaction(backend) as tx:
            tx.append_history(shuffled[3:])
            assert _json(tx.history(customer_id)) == _json(expected)
            tx.commit()
        with transaction(backend) as tx:
            assert _json(tx.history(customer_id)) == _json(expected)

    def test_a_recreated_customer_keeps_both_lives(self, backend: Backend) -> None:
        """Change records of a removed and re-created id (versions repeating) are all kept."""
        customer_id = uuid.uuid4().hex
        clock = TickingClock()
        lives = [
            _change(customer_id, 1, clock(), ChangeOperation.CREATED),
            _change(customer_id, 2, clock(), ChangeOperation.UPDATED),
            _change(customer_id, 3, clock(), ChangeOperation.REMOVED),
            _change(customer_id, 1, clock(), ChangeOperation.CREATED),
            _change(customer_id, 2, clock(), ChangeOperation.UPDATED),
        ]
        with transaction(backend) as tx:
            tx.append_history(lives[:3])
            tx.commit()
        with transaction(backend) as tx:
            tx.append_history(lives[3:])
            tx.commit()
        with transaction(backend) as tx:
            assert _json(tx.history(customer_id)) == _json(lives)

    @requires("persistent")
    def test_history_survives_reopening(self, backend: Backend) -> None:
        """A persistent backend keeps committed change records across close and reopen."""
        customer_id = uuid.uuid4().hex
        records = [
            _change(customer_id, version, at, ChangeOperation.UPDATED)
            for version, at in enumerate(_instants(), start=1)
        ]
        with transaction(backend) as tx:
            tx.append_history(records)
            tx.commit()
        reopened = self.reopen(backend)
        try:
            with transaction(reopened) as tx:
                assert _json(tx.history(customer_id)) == _json(records)
        finally:
            reopened.close()

"""The write contract of ``Backend.begin()`` transactions, tested without the store.

The store checks versions itself before it writes, so a backend whose own checks are
missing still passes every test that goes through the store. These tests call the
transaction's methods directly, as eventsourcing's recorder test cases call a
recorder's, so each promise of :class:`~crmcore.storage.ports.Transaction` is proved
where it is made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ClassVar

import pytest

from crmcore.models import ChangeOperation, ChangeRecord
from crmcore.query import Query
from crmcore.storage.ports import Backend, RecordKind, Transaction
from crmcore.testing._fixtures import BackendFixtures, TickingClock, requires
from crmcore.testing._spi import (
    KINDS,
    committed,
    edited,
    outcome,
    read,
    run_aside,
    same,
    sample,
    samples,
    transaction,
)

__all__ = ["TransactionWriteTests"]


class TransactionWriteTests(BackendFixtures):
    """Versions, duplicates, atomic commits and rollback, at the backend's own transactions."""

    commit_race_wait: ClassVar[float] = 1.0
    """Seconds a test waits for a second transaction before committing the first.

    An optimistic backend lets the second finish at once; a row-locking one blocks it
    until the first commits, and the test then checks the other outcome.
    """

    @requires("concurrent_writers")
    @pytest.mark.parametrize("conflict_kind", KINDS)
    def test_conflict_at_commit_leaves_no_pending_write(
        self, backend: Backend, conflict_kind: RecordKind
    ) -> None:
        """Add X (of every kind) and update Y; another commits Y first: nothing of ours lands."""
        target = sample(conflict_kind)
        committed(backend, conflict_kind, [target])
        ours = edited(target, "ours")
        theirs = edited(target, "theirs")
        pending = {kind: sample(kind) for kind in KINDS}
        with transaction(backend) as tx:
            for kind, record in pending.items():
                tx.insert(kind, [record])
            tx.update(conflict_kind, ours, expected_version=1)

            def other() -> str:
                with transaction(backend) as rival:
                    return outcome(
                        lambda: rival.update(conflict_kind, theirs, expected_version=1),
                        rival.commit,
                    )

            join = run_aside(other, wait=self.commit_race_wait)
            mine = outcome(tx.commit)
        results = {"ours": mine, "theirs": _lost_waiting(join())}
        assert sorted(results.values()) == ["ConcurrencyConflict", "ok"], results
        stored = read(backend, conflict_kind, target.id)
        if results["ours"] == "ok":
            assert same(stored, ours)
            for kind, record in pending.items():
                assert same(read(backend, kind, record.id), record), kind
        else:
            assert same(stored, theirs)
            for kind, record in pending.items():
                assert read(backend, kind, record.id) is None, (
                    f"the failed commit left its pending {kind} behind"
                )

    @requires("concurrent_writers")
    def test_two_transactions_inserting_one_new_id(self, backend: Backend) -> None:
        """Two transactions insert the same new id: one commits, the other gets DuplicateRecord."""
        first = sample("customer")
        second = edited(first, "second", bump=False)
        with transaction(backend) as tx:
            tx.insert("customer", [first])

            def other() -> str:
                with transaction(backend) as rival:
                    return outcome(lambda: rival.insert("customer", [second]), rival.commit)

            join = run_aside(other, wait=self.commit_race_wait)
            mine = outcome(tx.commit)
        results = {"first": mine, "second": _lost_waiting(join(), as_="DuplicateRecord")}
        assert sorted(results.values()) == ["DuplicateRecord", "ok"], results
        winner = first if results["first"] == "ok" else second
        assert same(read(backend, "customer", first.id), winner)

    @pytest.mark.parametrize("kind", KINDS)
    def test_insert_of_a_stored_id_never_overwrites(
        self, backend: Backend, kind: RecordKind
    ) -> None:
        """Inserting a committed id raises DuplicateRecord (at insert or commit); it stays."""
        [record] = samples(kind, 1)
        committed(backend, kind, [record])
        intruder = edited(record, "intruder", bump=False)
        with transaction(backend) as tx:
            result = outcome(lambda: tx.insert(kind, [intruder]), tx.commit)
        assert result == "DuplicateRecord"
        assert same(read(backend, kind, record.id), record)

    @pytest.mark.parametrize("kind", KINDS)
    def test_same_id_twice_in_one_transaction(self, backend: Backend, kind: RecordKind) -> None:
        """A second insert of an id, or one batch holding it twice, raises DuplicateRecord."""
        first, batch_id, bystander = samples(kind, 3)
        again = edited(first, "again", bump=False)
        repeated = [batch_id, edited(batch_id, "twice", bump=False)]
        with transaction(backend) as tx:
            tx.insert(kind, [first])
            late = [outcome(lambda: tx.insert(kind, [again]))]
            late.append(outcome(lambda: tx.insert(kind, repeated)))
            late.append(outcome(lambda: tx.insert(kind, [bystander, again])))
            if late == ["DuplicateRecord"] * 3:
                # refused at once: the transaction holds only the first insert
                assert same(tx.get(kind, first.id), first)
                assert tx.get(kind, batch_id.id) is None
                assert tx.get(kind, bystander.id) is None
                tx.commit()
                assert same(read(backend, kind, first.id), first)
            else:
                # a backend may find duplicates at commit instead: then nothing lands
                assert outcome(tx.commit) == "DuplicateRecord", late
                assert read(backend, kind, first.id) is None
        assert read(backend, kind, batch_id.id) is None
        assert read(backend, kind, bystander.id) is None

    @pytest.mark.parametrize("kind", KINDS)
    def test_remove_and_add_again_in_one_transaction(
        self, backend: Backend, kind: RecordKind
    ) -> None:
        """Deleting an id and inserting it again in one transaction stores the new record."""
        old, brief = samples(kind, 2)
        committed(backend, kind, [old])
        new = edited(old, "second life", bump=False)
        with transaction(backend) as tx:
            tx.delete(kind, old.id, expected_version=1)
            assert tx.get(kind, old.id) is None
            tx.insert(kind, [new])
            assert same(tx.get(kind, old.id), new)
            tx.insert(kind, [brief])  # added, then removed again: never stored
            tx.delete(kind, brief.id, expected_version=1)
            assert tx.get(kind, brief.id) is None
            tx.commit()
        assert same(read(backend, kind, old.id), new)
        assert read(backend, kind, brief.id) is None

    @pytest.mark.parametrize("kind", KINDS)
    def test_update_and_delete_check_the_expected_version(
        self, backend: Backend, kind: RecordKind
    ) -> None:
        """A stale expected_version raises ConcurrencyConflict, one transaction after another.

        Sequential on purpose: a backend that ignores ``expected_version`` fails here
        whatever capabilities it declares.
        """
        [record] = samples(kind, 1)
        committed(backend, kind, [record])
        winner = edited(record, "winner")
        with transaction(backend) as tx:
            tx.update(kind, winner, expected_version=1)
            tx.commit()
        stale = edited(record, "stale")
        ahead = edited(winner, "ahead")
        steps: tuple[Callable[[Transaction], None], ...] = (
            lambda tx: tx.update(kind, stale, expected_version=1),
            lambda tx: tx.update(kind, ahead, expected_version=3),
            lambda tx: tx.delete(kind, record.id, expected_version=1),
        )
        for step in steps:
            with transaction(backend) as tx:
                result = outcome(functools.partial(step, tx), tx.commit)
            assert result == "ConcurrencyConflict"
            assert same(read(backend, kind, record.id), winner)
        latest = edited(edited(winner, "later"), "latest")
        with transaction(backend) as tx:  # the transaction's own update counts
            tx.update(kind, edited(winner, "later"), expected_version=2)
            result = outcome(lambda: tx.update(kind, edited(winner, "x"), expected_version=2))
            if result == "ok":  # a backend may find it at commit instead: then nothing lands
                assert outcome(tx.commit) == "ConcurrencyConflict"
                latest = winner
            else:  # refused at once: the transaction goes on with its earlier writes
                assert result == "ConcurrencyConflict"
                tx.update(kind, latest, expected_version=3)
                tx.commit()
        assert same(read(backend, kind, record.id), latest)

    @pytest.mark.parametrize("kind", KINDS)
    def test_update_and_delete_of_a_missing_id(self, backend: Backend, kind: RecordKind) -> None:
        """Updating or deleting an id never stored raises NotFound and stores nothing."""
        [ghost] = samples(kind, 1)
        steps: tuple[Callable[[Transaction], None], ...] = (
            lambda tx: tx.update(kind, ghost, expected_version=1),
            lambda tx: tx.delete(kind, ghost.id, expected_version=1),
        )
        for step in steps:
            with transaction(backend) as tx:
                assert outcome(functools.partial(step, tx), tx.commit) == "NotFound"
        assert read(backend, kind, ghost.id) is None

    def test_rollback_discards_writes_and_change_records(self, backend: Backend) -> None:
        """rollback() discards every buffered insert, update, delete and change record."""
        kept, removed = samples("customer", 2)
        committed(backend, "customer", [kept, removed])
        added = {kind: sample(kind) for kind in KINDS}
        change = _change(kept.id, 2)
        tx = backend.begin()
        for kind, record in added.items():
            tx.insert(kind, [record])
        tx.update("customer", edited(kept, "rolled back"), expected_version=1)
        tx.delete("customer", removed.id, expected_version=1)
        tx.append_history([change])
        assert [c.id for c in tx.history(kept.id)] == [change.id]
        tx.rollback()
        for kind, record in added.items():
            assert read(backend, kind, record.id) is None
        assert same(read(backend, "customer", kept.id), kept)
        assert same(read(backend, "customer", removed.id), removed)
        with transaction(backend) as reader:
            assert reader.history(kept.id) == []
            assert reader.count("customer", Query()) == 2

    def test_a_finished_transaction_ends_quietly(self, backend: Backend) -> None:
        """rollback() after commit() or rollback() is a no-op that keeps what was committed."""
        record = sample("customer")
        tx = backend.begin()
        tx.insert("customer", [record])
        tx.commit()
        tx.rollback()
        assert same(read(backend, "customer", record.id), record)
        tx = backend.begin()
        tx.rollback()
        tx.rollback()


def _lost_waiting(result: str, *, as_: str = "ConcurrencyConflict") -> str:
    """A second transaction that gave up waiting for the first's lock lost the race too."""
    return as_ if result == "TransientStorageError" else result


def _change(customer_id: str, version: int) -> ChangeRecord:
    return ChangeRecord(
        customer_id=customer_id,
        operation=ChangeOperation.UPDATED,
        at=TickingClock()(),
        version=version,
        actor="kit",
    )

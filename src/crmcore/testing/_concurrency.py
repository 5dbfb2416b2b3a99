"""Concurrency through the store: stale writes conflict, racing writers lose nothing."""

from __future__ import annotations

import threading
from typing import ClassVar

import attrs
import pytest

from crmcore.errors import ConcurrencyConflict, NotFound
from crmcore.models import ChangeOperation, Customer
from crmcore.storage.store import Store
from crmcore.testing._fixtures import (
    BackendFixtures,
    add_all,
    add_owners,
    repo,
    requires,
    updater,
    write,
)
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_purchases,
)

__all__ = ["ConcurrencyTests"]


class ConcurrencyTests(BackendFixtures):
    """Stale writes conflict and change nothing; racing writers lose nothing."""

    race_wait: ClassVar[float] = 2.0
    """Seconds the first racer waits for the second to write (a row-locking backend blocks it)."""

    def test_stale_update_conflicts_and_changes_nothing(self, store: Store) -> None:
        """Saving a record read before someone else's save raises ConcurrencyConflict."""
        [customer] = add_all(store, sample_customers()[:1])
        with store.unit_of_work() as uow:
            winner = uow.customers.update(attrs.evolve(customer, grade="B"))
            uow.commit()
        with pytest.raises(ConcurrencyConflict):
            write(store, lambda uow: uow.customers.update(attrs.evolve(customer, grade="C")))
        with pytest.raises(ConcurrencyConflict):
            write(store, lambda uow: uow.customers.remove(customer))
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == winner
            assert len(uow.customers.history(customer.id)) == 2

    def test_stale_update_of_other_records_conflicts(self, store: Store) -> None:
        """Interactions, complaints and purchases are version-checked too."""
        records = [sample_interactions()[0], sample_complaints()[0], sample_purchases()[0]]
        add_owners(store, records)
        stored = add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                repo(uow, record).update(record)
            uow.commit()
        for record in stored:
            with pytest.raises(ConcurrencyConflict):
                write(store, updater(record))
        with store.unit_of_work() as uow:
            for record in stored:
                assert repo(uow, record).get(record.id).version == 2

    def test_update_of_missing_record_raises_not_found(self, store: Store) -> None:
        """Updating or removing a record that is not stored raises NotFound."""
        customer = attrs.evolve(Customer.person_named(family="张", given="伟"), version=1)
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.update(customer)
            with pytest.raises(NotFound):
                uow.customers.remove(customer)
            with pytest.raises(NotFound):
                uow.purchases.update(attrs.evolve(sample_purchases()[0], version=1))

    @requires("concurrent_writers")
    def test_two_writers_race_exactly_one_wins(self, store: Store) -> None:
        """Two writers save the same version at once: one commits, the other conflicts."""
        [base] = add_all(store, sample_customers()[:1])
        first_wrote = threading.Event()
        second_tried = threading.Event()
        first_done = threading.Event()
        results: dict[str, str] = {}

        def first() -> None:
            try:
                with store.unit_of_work(actor="first") as uow:
                    uow.customers.update(attrs.evolve(base, grade="first"))
                    first_wrote.set()
                    second_tried.wait(timeout=self.race_wait)
                    uow.commit()
                results["first"] = "ok"
            except ConcurrencyConflict:
                results["first"] = "conflict"
            except Exception as error:  # pragma: no cover - reported below
                results["first"] = f"error: {error!r}"
            finally:
                first_wrote.set()
                first_done.set()

        def second() -> None:
            first_wrote.wait(timeout=60)
            try:
                with store.unit_of_work(actor="second") as uow:
                    try:
                        uow.customers.update(attrs.evolve(base, grade="second"))
                    finally:
                        second_tried.set()
                    first_done.wait(timeout=60)
                    uow.commit()
                results["second"] = "ok"
            except ConcurrencyConflict:
                results["second"] = "conflict"
            except Exception as error:  # pragma: no cover - reported below
                results["second"] = f"error: {error!r}"
            finally:
                second_tried.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(results.values()) == ["conflict", "ok"], results
        winner = next(name for name, outcome in results.items() if outcome == "ok")
        with store.unit_of_work() as uow:
            stored = uow.customers.get(base.id)
            assert stored.version == 2
            assert stored.grade == winner
            updates = [
                h for h in uow.customers.history(base.id) if h.operation is ChangeOperation.UPDATED
            ]
            assert [h.actor for h in updates] == [winner]

    @requires("concurrent_writers")
    def test_racing_writers_lose_nothing(self, store: Store) -> None:
        """Writers retrying on conflict all land: every change is kept, none overwritten."""
        [base] = add_all(store, sample_customers()[16:17])
        writers = 4
        barrier = threading.Barrier(writers, timeout=60)
        errors: list[str] = []

        def writer(number: int) -> None:
            tag = f"writer-{number}"
            barrier.wait()
            for _attempt in range(200):
                try:
                    with store.unit_of_work(actor=tag) as uow:
                        current = uow.customers.get(base.id)
                        uow.customers.update(attrs.evolve(current, tags=(*current.tags, tag)))
                        uow.commit()
                    return
                except ConcurrencyConflict:
                    continue
                except Exception as error:  # pragma: no cover - reported below
                    errors.append(f"{tag}: {error!r}")
                    return
            errors.append(f"{tag}: gave up after 200 conflicts")  # pragma: no cover

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert errors == []
        with store.unit_of_work() as uow:
            stored = uow.customers.get(base.id)
            assert set(stored.tags) >= {f"writer-{n}" for n in range(writers)}
            assert stored.version == 1 + writers
            history = uow.customers.history(base.id)
            assert [h.version for h in history] == list(range(1, writers + 2))

"""Units of work: nothing saved without commit, commits all-or-nothing."""

from __future__ import annotations

import threading

import attrs
import pytest

from crmcore.errors import ConcurrencyConflict, NotFound
from crmcore.models import Customer
from crmcore.query import Field, Query
from crmcore.storage.store import Store, StoreUnitOfWork
from crmcore.testing._fixtures import (
    BackendFixtures,
    add_all,
    as_json,
    repo,
    requires,
    write,
)
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_purchases,
)

__all__ = ["UnitOfWorkTests"]


class UnitOfWorkTests(BackendFixtures):
    """Nothing is saved without commit; commits are all-or-nothing across repositories."""

    def test_nothing_is_saved_without_commit(self, store: Store) -> None:
        """Leaving a unit of work without commit() discards its writes."""
        customer = Customer.person_named(family="张", given="伟")
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.get(customer.id)

    def test_exception_rolls_back(self, store: Store) -> None:
        """An exception inside the block rolls back every write made in it."""
        customer = Customer.person_named(family="张", given="伟")
        with pytest.raises(RuntimeError):
            write(store, lambda uow: uow.customers.add(customer), fail=True)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0

    def test_explicit_rollback(self, store: Store) -> None:
        """rollback() discards writes; the unit of work can be used again."""
        first = Customer.person_named(family="李", given="娜")
        second = Customer.person_named(family="王", given="芳")
        with store.unit_of_work() as uow:
            uow.customers.add(first)
            uow.rollback()
            uow.customers.add(second)
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.stream()] == [second.id]

    def test_reads_see_own_writes(self, store: Store) -> None:
        """Inside a unit of work, get, find and count see its uncommitted writes."""
        customer = Customer.person_named(family="张", given="伟", tags=("vip",))
        with store.unit_of_work() as uow:
            stored = uow.customers.add(customer)
            assert as_json(uow.customers.get(customer.id)) == as_json(stored)
            assert uow.customers.find(Query(where=Field("tags") == "vip")) == [stored]
            assert uow.customers.count() == 1

    def test_reads_see_own_removes_and_writes_in_order(self, store: Store) -> None:
        """Inside a unit of work, get, find, count and stream see its removes and adds."""
        stored = add_all(store, sample_customers()[:4])
        extra = Customer.person_named(family="赵", given="六", id="c00-added")
        with store.unit_of_work() as uow:
            uow.customers.remove(stored[1])
            added = uow.customers.add(extra)
            with pytest.raises(NotFound):
                uow.customers.get(stored[1].id)
            expected = sorted([stored[0], *stored[2:], added], key=lambda c: c.id)
            assert uow.customers.find(Query(order_by=("id",))) == expected
            assert uow.customers.count() == len(expected)
            for batch_size in (1, 2, 3, 4, 5):
                assert list(uow.customers.stream(batch_size=batch_size)) == expected

    def test_commit_spans_every_repository(self, store: Store) -> None:
        """One commit saves a customer with its interactions, complaints and purchases."""
        records = [
            sample_customers()[0],
            *[r for r in sample_interactions() if r.customer_id == "c01"],
            *[r for r in sample_complaints() if r.customer_id == "c01"],
            *[r for r in sample_purchases() if r.customer_id == "c01"],
        ]
        stored = add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                assert as_json(repo(uow, record).get(record.id)) == as_json(record)

    def test_failed_unit_of_work_saves_nothing_in_any_repository(self, store: Store) -> None:
        """A unit of work that hits a conflict saves none of its writes, in any repository."""
        [customer] = add_all(store, sample_customers()[:1])
        with store.unit_of_work() as other:
            other.customers.update(attrs.evolve(customer, grade="Z"))
            other.commit()
        purchase = sample_purchases()[0]
        interaction = sample_interactions()[0]

        def change(uow: StoreUnitOfWork) -> None:
            uow.purchases.add(purchase)
            uow.interactions.add(interaction)
            uow.customers.update(attrs.evolve(customer, grade="Y"))

        with pytest.raises(ConcurrencyConflict):
            write(store, change)
        with store.unit_of_work() as uow:
            assert uow.purchases.count() == 0
            assert uow.interactions.count() == 0
            assert uow.customers.get(customer.id).grade == "Z"

    @requires("concurrent_writers")
    def test_uncommitted_writes_are_invisible_to_others(self, store: Store) -> None:
        """Another unit of work does not see writes that were not committed."""
        customer = Customer.person_named(family="张", given="伟")
        with store.unit_of_work() as writer:
            writer.customers.add(customer)
            seen: list[int] = []

            def read() -> None:
                with store.unit_of_work() as reader:
                    seen.append(reader.customers.count())

            thread = threading.Thread(target=read)
            thread.start()
            thread.join(timeout=60)
            assert seen == [0]
            writer.commit()
        with store.unit_of_work() as reader:
            assert reader.customers.count() == 1

    def test_unit_of_work_continues_after_commit(self, store: Store) -> None:
        """After commit() a unit of work starts afresh; later writes need another commit."""
        first = Customer.person_named(family="张", given="伟")
        second = Customer.person_named(family="王", given="芳")
        with store.unit_of_work() as uow:
            uow.customers.add(first)
            uow.commit()
            uow.customers.add(second)
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.stream()] == [first.id]

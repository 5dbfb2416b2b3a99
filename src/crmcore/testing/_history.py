"""Change history through the store: what, old and new, when, by whom."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from crmcore.models import ChangeOperation, Customer
from crmcore.serialization import to_dict
from crmcore.storage.store import Store, customer_versions
from crmcore.testing import strategies as cst
from crmcore.testing._fixtures import (
    KIT_SETTINGS,
    BackendFixtures,
    add_all,
    fresh,
)
from crmcore.testing.data import (
    sample_customers,
)

__all__ = ["HistoryTests"]


class HistoryTests(BackendFixtures):
    """Every change to a customer is recorded: what, old and new, when, by whom, from where."""

    def test_history_of_create_update_remove(self, store: Store) -> None:
        """Creating, updating and removing a customer each append one change record."""
        customer = sample_customers()[0]
        with store.unit_of_work(actor="alice", source="form") as uow:
            created = uow.customers.add(customer)
            uow.commit()
        with store.unit_of_work(actor="bob", source="crm-sync") as uow:
            updated = uow.customers.update(
                attrs.evolve(created, display_name="张伟 (VIP)", grade=None)
            )
            uow.commit()
        with store.unit_of_work(actor="carol") as uow:
            uow.customers.remove(updated)
            uow.commit()
        with store.unit_of_work() as uow:
            history = uow.customers.history(customer.id)
        assert [(h.operation, h.version, h.actor, h.source) for h in history] == [
            (ChangeOperation.CREATED, 1, "alice", "form"),
            (ChangeOperation.UPDATED, 2, "bob", "crm-sync"),
            (ChangeOperation.REMOVED, 3, "carol", None),
        ]
        assert all(h.customer_id == customer.id for h in history)
        assert history[0].at < history[1].at < history[2].at
        changes = {c.path: (c.old, c.new) for c in history[1].changes}
        assert changes == {
            "$.display_name": ('"张伟"', '"张伟 (VIP)"'),
            "$.grade": ('"A"', "null"),
        }
        assert history[0].changes == ()
        [removal] = history[2].changes
        assert removal.path == "$"
        assert removal.new is None
        versions = customer_versions(None, history)
        assert sorted(versions) == [1, 2]
        assert versions[1]["display_name"] == "张伟"
        assert versions[1]["grade"] == "A"
        assert versions[2]["display_name"] == "张伟 (VIP)"
        assert versions[2]["grade"] is None

    @KIT_SETTINGS
    @given(first=cst.customers(), changes=st.lists(cst.customers(), min_size=1, max_size=3))
    def test_history_rebuilds_every_version(
        self, store: Store, first: Customer, changes: list[Customer]
    ) -> None:
        """The stored history, read back, rebuilds every version of a customer exactly."""
        current = add_all(store, [fresh(first)])[0]
        written = [current]
        for change in changes:
            with store.unit_of_work() as uow:
                current = uow.customers.update(
                    attrs.evolve(change, id=current.id, version=current.version)
                )
                uow.commit()
            written.append(current)
        with store.unit_of_work() as uow:
            history = uow.customers.history(current.id)
            stored = uow.customers.get(current.id)
        versions = customer_versions(stored, history)
        for version in written:
            expected = to_dict(version)
            for key in ("version", "created_at", "updated_at"):
                del expected[key]
            assert versions[version.version] == expected

    def test_history_rolls_back_with_the_unit_of_work(self, store: Store) -> None:
        """A change that was rolled back leaves no history."""
        customer = sample_customers()[1]
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
        with store.unit_of_work() as uow:
            assert uow.customers.history(customer.id) == []

    def test_history_is_per_customer(self, store: Store) -> None:
        """Each customer's history holds only its own changes, oldest first."""
        stored = add_all(store, sample_customers()[:3])
        with store.unit_of_work() as uow:
            for customer in stored:
                uow.customers.update(attrs.evolve(customer, owner="sales-9"))
            uow.commit()
        with store.unit_of_work() as uow:
            for customer in stored:
                history = uow.customers.history(customer.id)
                assert [h.operation for h in history] == [
                    ChangeOperation.CREATED,
                    ChangeOperation.UPDATED,
                ]
                assert {h.customer_id for h in history} == {customer.id}

    def test_history_across_a_clock_change(self, store: Store) -> None:
        """History stays in commit order when the clock's offset changes (daylight saving)."""
        [current] = add_all(store, sample_customers()[2:3])
        for n in range(5):
            with store.unit_of_work() as uow:
                current = uow.customers.update(attrs.evolve(current, owner=f"owner-{n}"))
                uow.commit()
        with store.unit_of_work() as uow:
            history = uow.customers.history(current.id)
        assert [h.version for h in history] == list(range(1, 7))
        instants = [h.at for h in history]
        assert instants == sorted(instants)
        offsets = {h.at.utcoffset() for h in history}
        assert len(offsets) > 1, f"the store's clock never changed offset: {offsets}"

    def test_history_of_a_recreated_customer(self, store: Store) -> None:
        """A customer removed and added again under its id keeps the history of both lives."""
        customer = sample_customers()[3]
        [first] = add_all(store, [customer])
        with store.unit_of_work(actor="remover") as uow:
            uow.customers.remove(first)
            uow.commit()
        [second] = add_all(store, [customer])
        with store.unit_of_work() as uow:
            second = uow.customers.update(attrs.evolve(second, owner="second life"))
            uow.commit()
        with store.unit_of_work() as uow:
            history = uow.customers.history(customer.id)
        assert [(h.operation, h.version) for h in history] == [
            (ChangeOperation.CREATED, 1),
            (ChangeOperation.REMOVED, 2),
            (ChangeOperation.CREATED, 1),
            (ChangeOperation.UPDATED, 2),
        ]

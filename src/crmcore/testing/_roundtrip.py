"""Round trips: every model survives the store unchanged."""

from __future__ import annotations

import datetime as dt
import unicodedata

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmcore.errors import DuplicateRecord, NotFound, ValidationError
from crmcore.models import Customer
from crmcore.query import Field, Query
from crmcore.storage.history import same_apart_from_bookkeeping
from crmcore.storage.ports import Backend
from crmcore.storage.store import Store
from crmcore.testing import strategies as cst
from crmcore.testing._fixtures import (
    KIT_SETTINGS,
    REPOSITORIES,
    BackendFixtures,
    TickingClock,
    add_all,
    add_owners,
    as_json,
    fresh,
    repo,
    requires,
)
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_purchases,
)

__all__ = ["RoundTripTests"]


class RoundTripTests(BackendFixtures):
    """Every model survives the store unchanged; missing ids raise NotFound."""

    @KIT_SETTINGS
    @given(customer=cst.customers())
    def test_customer_round_trip(self, store: Store, customer: Customer) -> None:
        """A customer read back equals the customer add() returned, version 1."""
        customer = fresh(customer)
        [stored] = add_all(store, [customer])
        assert stored.version == 1
        with store.unit_of_work() as uow:
            loaded = uow.customers.get(customer.id)
            assert as_json(loaded) == as_json(stored)
            assert uow.customers.find(Query(where=Field("id") == customer.id)) == [stored]

    @KIT_SETTINGS
    @given(first=cst.customers(), second=cst.customers())
    def test_customer_update_round_trip(
        self, store: Store, first: Customer, second: Customer
    ) -> None:
        """An update replacing every field reads back exactly, at version 2."""
        [stored] = add_all(store, [fresh(first)])
        replacement = attrs.evolve(second, id=stored.id, version=stored.version)
        assume(not same_apart_from_bookkeeping(replacement, stored))  # a no-op writes nothing
        with store.unit_of_work() as uow:
            updated = uow.customers.update(replacement)
            uow.commit()
        assert updated.version == 2
        with store.unit_of_work() as uow:
            assert as_json(uow.customers.get(stored.id)) == as_json(updated)

    @KIT_SETTINGS
    @given(data=st.data())
    def test_other_records_round_trip(self, store: Store, data: st.DataObject) -> None:
        """Interactions, complaints and purchases read back exactly."""
        records = [
            fresh(data.draw(cst.interactions())),
            fresh(data.draw(cst.complaints())),
            fresh(data.draw(cst.purchases())),
        ]
        add_owners(store, records)
        stored = add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                loaded = repo(uow, record).get(record.id)
                assert as_json(loaded) == as_json(record)
                assert loaded.version == 1

    def test_sample_data_round_trips(self, store: Store) -> None:
        """Every record of the international sample data set reads back exactly."""
        records = [
            *sample_customers(),
            *sample_interactions(),
            *sample_complaints(),
            *sample_purchases(),
        ]
        stored = add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                assert as_json(repo(uow, record).get(record.id)) == as_json(record)

    def test_text_round_trips_exactly(self, store: Store) -> None:
        """Decomposed (NFD) and composed (NFC) names read back code point for code point."""
        names = ["Zoë Ångström", "Đặng Thị Ngọc", "한국어"]
        forms = [unicodedata.normalize(form, n) for n in names for form in ("NFC", "NFD")]
        records = [
            Customer.person_named(family=text, given="", display_name=text, tags=(text,))
            for text in forms
        ]
        stored = add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                found = uow.customers.get(record.id)
                assert found.display_name == record.display_name, ascii(record.display_name)
                assert as_json(found) == as_json(record)

    @pytest.mark.parametrize("kind", REPOSITORIES)
    def test_get_missing_raises_not_found(self, store: Store, kind: str) -> None:
        """get() of an id that was never stored raises NotFound, a LookupError."""
        with store.unit_of_work() as uow:
            repo = getattr(uow, kind)
            with pytest.raises(NotFound):
                repo.get("no-such-id")
            with pytest.raises(LookupError):
                repo.get("no-such-id")

    def test_add_twice_raises_duplicate(self, store: Store) -> None:
        """Adding a second record with a stored id raises DuplicateRecord."""
        [stored] = add_all(store, [Customer.person_named(family="张", given="伟")])
        with store.unit_of_work() as uow, pytest.raises(DuplicateRecord):
            uow.customers.add(attrs.evolve(stored, version=0))

    def test_add_requires_a_new_record(self, store: Store) -> None:
        """add() refuses a record that already carries a version."""
        customer = Customer.person_named(family="李", given="娜", version=3)
        with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.customers.add(customer)
        assert info.value.codes == ("record.not_new",)

    def test_stream_yields_every_record_in_id_order(self, store: Store) -> None:
        """stream() yields every record once, ordered by id, whatever the batch size."""
        stored = add_all(store, sample_customers())
        expected = sorted(stored, key=lambda c: c.id)
        for batch_size in (1, 4, 1000):
            with store.unit_of_work() as uow:
                assert list(uow.customers.stream(batch_size=batch_size)) == expected
            assert list(store.stream_customers(batch_size=batch_size)) == expected

    def test_count(self, store: Store) -> None:
        """count() counts every record, or those a query's filter matches."""
        stored = add_all(store, sample_customers())
        query = Query(where=Field("tags") == "vip", limit=1)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == len(stored)
            assert uow.customers.count(query) == len(query.unpaged().apply(stored))

    def test_remove(self, store: Store) -> None:
        """A removed record is gone; its id raises NotFound afterwards."""
        [customer, interaction] = add_all(
            store, [*sample_customers()[:1], *sample_interactions()[:1]]
        )
        with store.unit_of_work() as uow:
            uow.interactions.remove(interaction)
            uow.customers.remove(customer)
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.get(customer.id)
            with pytest.raises(NotFound):
                uow.interactions.get(interaction.id)
            assert uow.customers.count() == 0

    def test_timestamps_come_from_the_clock(self, backend: Backend) -> None:
        """add() sets created and updated time from the clock; update() moves updated time."""
        start = dt.datetime(2030, 5, 1, 8, tzinfo=dt.UTC)
        store = Store(backend, clock=TickingClock(start), normaliser=None)
        [stored] = add_all(store, [Customer.person_named(family="王", given="芳")])
        assert stored.created_at == stored.updated_at == start
        with store.unit_of_work() as uow:
            updated = uow.customers.update(attrs.evolve(stored, grade="A"))
            uow.commit()
        assert updated.created_at == start
        assert updated.updated_at > start
        with store.unit_of_work() as uow:
            assert as_json(uow.customers.get(stored.id)) == as_json(updated)

    @requires("persistent")
    def test_data_survives_reopening(self, backend: Backend) -> None:
        """A persistent backend keeps committed data across close and reopen."""
        store = Store(backend, clock=TickingClock(), normaliser=None)
        stored = add_all(store, sample_customers()[:3])
        reopened = Store(self.reopen(backend), normaliser=None)
        with reopened.unit_of_work() as uow:
            for record in stored:
                assert as_json(uow.customers.get(record.id)) == as_json(record)

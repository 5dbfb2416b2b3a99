"""Bulk import of purchases, interactions and complaints, on every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence

import attrs
import pytest
from tests.integration._stores import BACKENDS, FIXED, open_store
from tests.integration.test_store_integrity import complaint, interaction, purchase

from crmcore.models import ContactPerson, Customer, PersonName
from crmcore.query import Query
from crmcore.serialization import to_dict
from crmcore.storage import ImportOutcome, ImportStatus, MemoryBackend, MemoryTransaction, Store
from crmcore.storage.ports import Record, RecordKind


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    yield from open_store(request, sql_database, clock=lambda: FIXED)


PERSON = ContactPerson(name=PersonName(family="李", given="总"))


def _customers(store: Store) -> None:
    acme = Customer.organisation_named("星辰科技", id="org")
    assert acme.organisation is not None
    profile = attrs.evolve(acme.organisation, contact_persons=(PERSON,))
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.person_named(family="张", given="伟", id="zhang"))
        uow.customers.add(attrs.evolve(acme, organisation=profile))
        uow.commit()


def test_purchases_import_in_batches(store: Store) -> None:
    """25 purchases in batches of 10 are all created, at version 1, stamped by the clock."""
    _customers(store)
    rows = [purchase("zhang" if i % 2 else "org", id=f"p{i:02}") for i in range(25)]
    report = store.import_records("purchase", rows, batch_size=10)
    assert (report.created, report.rejected) == (25, 0)
    with store.unit_of_work() as uow:
        assert uow.purchases.count() == 25
        stored = uow.purchases.get("p03")
    assert (stored.version, stored.created_at) == (1, FIXED)


def test_records_for_unknown_customers_or_persons_are_rejected_alone(store: Store) -> None:
    """A record naming no stored customer, or a stranger as contact person, is rejected;
    the rest of its batch is written."""
    _customers(store)
    rows = [
        interaction("zhang", id="i1"),
        interaction("nobody", id="i2"),
        interaction("org", id="i3", contact_person_id=PERSON.id),
        interaction("org", id="i4", contact_person_id="stranger"),
    ]
    report = store.import_records("interaction", rows, batch_size=10)
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
    ]
    assert [(p.code, p.path) for o in report.rejections() for p in o.problems] == [
        ("storage.unknown_reference", "$.customer_id"),
        ("storage.unknown_reference", "$.contact_person_id"),
    ]
    with store.unit_of_work() as uow:
        assert sorted(i.id for i in uow.interactions.stream()) == ["i1", "i3"]


def test_re_importing_updates_keeps_or_refuses(store: Store) -> None:
    """A stored id is unchanged when equal, updated when changed; upsert=False and stale
    version claims are refused."""
    _customers(store)
    rows = [complaint("zhang", id="k1"), complaint("zhang", id="k2")]
    store.import_records("complaint", rows)
    changed = attrs.evolve(rows[1], description="还是太吵")
    report = store.import_records("complaint", [rows[0], changed])
    assert [(o.status, o.version) for o in report.outcomes] == [
        (ImportStatus.UNCHANGED, 1),
        (ImportStatus.UPDATED, 2),
    ]
    refused = store.import_records("complaint", [rows[0]], upsert=False)
    assert [p.code for p in refused.outcomes[0].problems] == ["storage.duplicate"]
    stale = store.import_records("complaint", [attrs.evolve(changed, version=1)])
    assert [p.code for p in stale.outcomes[0].problems] == ["storage.conflict"]
    with store.unit_of_work() as uow:
        assert uow.complaints.get("k2").description == "还是太吵"


def test_mappings_are_structured_and_keep_their_created_at(store: Store) -> None:
    """Mapping rows are structured (problems with paths); a given created_at is kept;
    a repeated id is rejected."""
    _customers(store)
    legacy = dt.datetime(2019, 5, 1, 12, tzinfo=dt.UTC)
    good = to_dict(attrs.evolve(purchase("zhang", id="m1"), created_at=legacy))
    good.pop("version")
    bad = {**good, "id": "m2", "amount": "lots"}
    report = store.import_records("purchase", [good, bad, good])
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
        ImportStatus.REJECTED,
    ]
    assert report.outcomes[1].problems[0].path.startswith("$.amount")
    assert [p.code for p in report.outcomes[2].problems] == ["import.duplicate_id"]
    with store.unit_of_work() as uow:
        assert uow.purchases.get("m1").created_at == legacy


def test_outcomes_reach_on_outcome_in_input_order(store: Store) -> None:
    """Across batches, rejected and created records reach on_outcome in input order."""
    _customers(store)
    rows = [purchase("nobody" if i % 4 == 1 else "zhang", id=f"q{i}") for i in range(9)]
    seen: list[ImportOutcome] = []
    report = store.import_records("purchase", rows, batch_size=2, on_outcome=seen.append)
    assert [o.index for o in seen] == list(range(9))
    assert (report.created, report.rejected) == (7, 2)
    assert len(report.outcomes) == 2  # with on_outcome, only the rejections are kept


def test_customers_are_not_imported_as_records(store: Store) -> None:
    """import_records is for purchases, interactions and complaints; customers are refused."""
    with pytest.raises(ValueError, match="import_customers"):
        store.import_records("customer", [])


class CountingBackend(MemoryBackend):
    """The memory backend, counting customer lookups (get, get_many and count)."""

    def __init__(self) -> None:
        super().__init__()
        self.customer_lookups = 0

    def begin(self) -> MemoryTransaction:
        tx = super().begin()
        backend, get, get_many, count = self, tx.get, tx.get_many, tx.count

        def counting_get(kind: RecordKind, record_id: str) -> Record | None:
            backend.customer_lookups += kind == "customer"
            return get(kind, record_id)

        def counting_get_many(kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
            backend.customer_lookups += kind == "customer"
            return get_many(kind, record_ids)

        def counting_count(kind: RecordKind, query: Query) -> int:
            backend.customer_lookups += kind == "customer"
            return count(kind, query)

        tx.get = counting_get  # type: ignore[method-assign]
        tx.count = counting_count  # type: ignore[method-assign]
        tx.get_many = counting_get_many  # type: ignore[method-assign]
        return tx


def test_references_are_checked_with_one_lookup_per_batch() -> None:
    """Each batch looks its customers up once, however many records it holds."""
    backend = CountingBackend()
    store = Store(backend, normaliser=None)
    _customers(store)
    backend.customer_lookups = 0
    rows = [purchase("zhang", id=f"r{i}") for i in range(30)]
    assert store.import_records("purchase", rows, batch_size=10).created == 30
    assert backend.customer_lookups == 3
    rows = [purchase("nobody" if i == 5 else "zhang", id=f"s{i}") for i in range(10)]
    backend.customer_lookups = 0
    assert store.import_records("purchase", rows, batch_size=10).rejected == 1
    assert backend.customer_lookups == 2  # the count, then which one is missing

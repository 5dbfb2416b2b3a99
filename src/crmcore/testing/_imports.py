"""Bulk import through the store: one outcome per record."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from crmcore.errors import NotFound, Problem, ValidationError
from crmcore.models import ChangeOperation, Customer
from crmcore.serialization import to_dict
from crmcore.storage.ports import Backend
from crmcore.storage.store import ImportStatus, Store
from crmcore.testing._fixtures import (
    BackendFixtures,
    TickingClock,
    add_all,
)
from crmcore.testing.data import (
    sample_customers,
)

__all__ = ["ImportTests"]


def _reject_blocked(customer: Customer) -> Customer:
    if "blocked" in customer.tags:
        raise ValidationError(
            [Problem(code="kit.blocked", path="$.tags", message="blocked by the kit's normaliser")]
        )
    return attrs.evolve(customer, display_name=customer.display_name.strip())


class ImportTests(BackendFixtures):
    """Bulk import: one outcome per record; rejected records write nothing."""

    def test_import_report(self, backend: Backend) -> None:
        """Created, updated, unchanged and rejected records are reported; only good ones land."""
        store = Store(backend, clock=TickingClock(), normaliser=_reject_blocked)
        existing = add_all(store, sample_customers()[:3])
        fresh = sample_customers()[3:8]
        records: list[Any] = [
            *fresh,
            attrs.evolve(existing[0], version=0, grade="Z"),  # update (blind upsert)
            existing[1],  # unchanged
            attrs.evolve(existing[2], version=7, grade="Y"),  # stale version
            {"kind": "person", "display_name": 7},  # structure problems
            attrs.evolve(sample_customers()[8], tags=("blocked",)),  # normaliser rejects
            {**to_dict(sample_customers()[9]), "version": 0},  # a mapping, created
            fresh[0],  # repeated id
            "not a customer",
        ]
        report = store.import_customers(records, batch_size=3, actor="importer", source="kit")
        statuses = [o.status for o in report.outcomes]
        assert [o.index for o in report.outcomes] == list(range(len(records)))
        created, updated, unchanged, rejected = (
            ImportStatus.CREATED,
            ImportStatus.UPDATED,
            ImportStatus.UNCHANGED,
            ImportStatus.REJECTED,
        )
        assert statuses == [
            *[created] * len(fresh),
            updated,
            unchanged,
            rejected,
            rejected,
            rejected,
            created,
            rejected,
            rejected,
        ]
        assert (report.created, report.updated, report.unchanged, report.rejected) == (6, 1, 1, 5)
        problems = {o.index: {p.code for p in o.problems} for o in report.rejections()}
        n = len(fresh)
        assert problems[n + 2] == {"storage.conflict"}
        assert "type.invalid" in problems[n + 3]
        assert problems[n + 4] == {"kit.blocked"}
        assert problems[n + 6] == {"import.duplicate_id"}
        assert problems[n + 7] == {"type.invalid"}
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 3 + 6
            assert uow.customers.get(existing[0].id).grade == "Z"
            assert uow.customers.get(existing[0].id).version == 2
            assert uow.customers.get(existing[1].id) == existing[1]
            assert uow.customers.get(existing[2].id) == existing[2]
            with pytest.raises(NotFound):
                uow.customers.get(sample_customers()[8].id)
            for outcome in report.outcomes:
                if outcome.status in (created, updated, unchanged):
                    assert outcome.id is not None
                    assert uow.customers.get(outcome.id).version == outcome.version
            history = uow.customers.history(fresh[1].id)
            assert [(h.operation, h.actor, h.source) for h in history] == [
                (ChangeOperation.CREATED, "importer", "kit")
            ]

    def test_import_many_in_batches(self, store: Store) -> None:
        """Hundreds of customers imported in batches all land, streamed back in id order."""
        customers = [
            Customer.person_named(family="张", given=f"{n:03d}", id=f"bulk-{n:04d}")
            for n in range(250)
        ]
        report = store.import_customers(customers, batch_size=64)
        assert report.ok
        assert report.created == 250
        streamed = list(store.stream_customers(batch_size=50))
        assert [c.id for c in streamed] == [c.id for c in customers]
        assert all(c.version == 1 for c in streamed)

    def test_import_without_upsert_rejects_existing(self, store: Store) -> None:
        """With upsert=False an existing id is rejected and left as it was."""
        [existing] = add_all(store, sample_customers()[:1])
        report = store.import_customers([attrs.evolve(existing, grade="Q")], upsert=False)
        assert [o.status for o in report.outcomes] == [ImportStatus.REJECTED]
        assert report.outcomes[0].problems[0].code == "storage.duplicate"
        with store.unit_of_work() as uow:
            assert uow.customers.get(existing.id) == existing

    def test_import_uses_the_normaliser(self, backend: Backend) -> None:
        """Imported customers are stored as the normaliser returns them."""
        store = Store(backend, normaliser=_reject_blocked)
        customer = Customer.person_named(family="王", given="芳", display_name="  王芳  ")
        store.import_customers([customer])
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id).display_name == "王芳"
